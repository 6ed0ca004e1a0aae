"""EventHub's models, one module per aggregate."""

from .attendance import JoinOpen, MeetingAttendance
from .deliveries import WebhookDelivery
from .events import MODES, Event, Room
from .feeds import FeedStamp
from .notices import register as _register_notices
from .outbox import OutboxMail
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
from .video_rooms import ROOM_STATES, VideoRoom

_register_notices()  # once per process: every app shares db.session

__all__ = [
    "ATTENDANCE", "FINISHED", "INVITATION_STATUSES", "MODES", "PARTICIPANT_ROLES", "ROOM_STATES",
    "STATUSES", "USER_ROLES", "VIDEO_MODES", "AgendaItem", "ApiToken", "Event", "FeedStamp", "Mode",
    "Participant", "Room", "Session", "Status", "User", "VideoRoom", "session_moderators",
    "session_speakers", "utcnow", "WebhookDelivery",
]  # fmt: skip
__all__ += ["JoinOpen", "MeetingAttendance"]
__all__ += ["OutboxMail"]
