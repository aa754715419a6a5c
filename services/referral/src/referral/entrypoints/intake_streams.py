"""Each organization's intake stream read from the moment it has a bus key.

An organization on the bus adds its referrals to a stream of its own
(`streams.intake`), made when its first bus key is (`korpu org keys create ORG
--bus`), possibly while this service runs. This part looks for new ones and
starts reading each through the service (`Service.subscribe`): its group created
at the start of the stream, so nothing added before is missed. Rejected: one
intake for every agency (no Redis permission can keep one agency from trimming,
blocking or reading another's entries there), and a restart to read a new
organization's stream.
"""

from __future__ import annotations

from korpu_runtime import background
from korpu_runtime.service import Service
from referral.adapters import bus_keys
from referral.entrypoints import consumers

# A new organization's first entry waits at most this long, besides its handling.
INTERVAL_SECONDS = 1.0


class IntakeStreams(background.Periodic):
    def __init__(self, service: Service, *, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self._service = service
        self.loop = background.Loop("intake_streams", interval_seconds, self.run_once)

    async def run_once(self) -> int:
        """Start reading every organization's intake not read yet; how many were started."""
        organizations = await self._service.db.run(bus_keys.organizations_on_the_bus)
        started = 0
        for organization_id in organizations:
            started += await self._service.subscribe(consumers.intake_of(organization_id))
        return started
