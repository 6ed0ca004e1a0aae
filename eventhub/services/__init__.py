"""Domain actions: one function per action, the only write path to the models.

REST handlers, Socket.IO handlers, CLI commands, web forms and provider webhooks all call these.
A public service loads, authorizes (:mod:`.access`), validates, writes, commits once and returns;
:mod:`eventhub.publish` tells the live clients after the commit.
"""
