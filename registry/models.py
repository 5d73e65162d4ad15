from .dns.models import ChangeAction, ChangeStatus, DnsChange, DnsRecord, RecordType, ZoneState
from .domains.models import LIVE_STATES, TRANSITIONS, Domain, DomainStatus, ReservedName, check_transition
from .organisations.models import LEVEL_REGION, Office, Region, Unit, UnitKind, UnitLevel, User

__all__ = [
    "ChangeAction",
    "ChangeStatus",
    "DnsChange",
    "DnsRecord",
    "RecordType",
    "ZoneState",
    "LEVEL_REGION",
    "LIVE_STATES",
    "TRANSITIONS",
    "Domain",
    "DomainStatus",
    "Office",
    "Region",
    "ReservedName",
    "Unit",
    "UnitKind",
    "UnitLevel",
    "User",
    "check_transition",
]
