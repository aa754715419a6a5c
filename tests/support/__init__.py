"""Helpers shared by the test suite: waiting with deadlines and the Redis/PostgreSQL it runs on."""
