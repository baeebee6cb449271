"""Review for regional authorities: the audit journal filtered, exported, and as ICS-214 activity logs."""
