"""Human-readable sizes and durations for table output (machine formats keep raw numbers)."""


def human_bytes(count):
    """Decimal units, as `df -H` and the disk-space messages use: 1.50 GB, 12.3 MB, 512 B."""
    if count is None:
        return None
    value = float(count)
    if abs(value) < 1000:
        return f"{int(value)} B"
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.2f} {unit}" if abs(value) < 10 else f"{value:.1f} {unit}"


def human_seconds(milliseconds):
    """12.3 s, 4m05s, 1h02m."""
    if milliseconds is None:
        return None
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole // 60 % 60:02d}m"
