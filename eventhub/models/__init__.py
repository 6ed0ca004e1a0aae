"""EventHub's models, one module per aggregate."""

from .deliveries import WebhookDelivery
from .events import MODES, Event, Room
from .participants import (
    ATTENDANCE,
    INVITATION_STATUSES,
    PARTICIPANT_ROLES,
    AgendaItem,
    Participant,
)
from .sessions import (
    FINISHED,
    STATUSES,
    VIDEO_MODES,
    Mode,
    Session,
    Status,
    session_moderators,
    session_speakers,
)
from .types import utcnow
from .users import USER_ROLES, ApiToken, User
from .versioning import register as _register_versioning
from .video_rooms import ROOM_STATES, VideoRoom

_register_versioning()  # once per process: every app shares db.session

__all__ = [
    "ATTENDANCE", "FINISHED", "INVITATION_STATUSES", "MODES", "PARTICIPANT_ROLES", "ROOM_STATES",
    "STATUSES", "USER_ROLES", "VIDEO_MODES", "AgendaItem", "ApiToken", "Event", "Mode",
    "Participant", "Room", "Session", "Status", "User", "VideoRoom", "session_moderators",
    "session_speakers", "utcnow", "WebhookDelivery",
]  # fmt: skip
