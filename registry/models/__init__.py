from .organisations import LEVEL_REGION, Office, Region, Unit, UnitKind, UnitLevel, User

__all__ = ["LEVEL_REGION", "Office", "Region", "Unit", "UnitKind", "UnitLevel", "User"]
