"""The operators' web console: queues, dead letters, trace, capacity and recovery, behind sign-in.

A process of its own (`korpu serve console`, started by `korpu up`), reading Redis and
the services' databases' outboxes and the providers' HTTP APIs. It never holds or shows
personal data: its own database keeps only its accounts, sessions and audit trail.
"""
