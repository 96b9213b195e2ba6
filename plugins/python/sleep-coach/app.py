"""Sleep Coach: how long and how deeply the user slept over the last
nights, beside their resting heart rate and HRV (SDNN). Each part degrades
on its own: a refused type says what to grant, the rest still answers.

Sleep stages are matched by their documented codes
(https://healthplug.dev/vocab/sleep-stage, docs/data-types.md).
"""

from healthplug import DataType, Fields, NotGranted, Plugin, export, health, log, reason_id, type_id, tool

ASLEEP = ("asleepCore", "asleepDeep", "asleepREM", "asleepUnspecified")


def refused(e):
    return {"error": f"{type_id(e.data_type)} not granted ({reason_id(e.reason)})"}


def stages(days):
    """Minutes per stage over the last `days` nights."""
    minutes = {}
    for page in health.query([DataType.SLEEP]).last_days(days).fields(Fields.VALUE | Fields.TIME).pages():
        for s in page:
            if s.coding is not None and s.value is not None:
                minutes[s.coding.code] = minutes.get(s.coding.code, 0.0) + s.value
    asleep = sum(minutes.get(c, 0.0) for c in ASLEEP)
    return {
        "minutes": minutes,
        "asleep_minutes": asleep,
        "asleep_hours_per_night": round(asleep / days / 60, 2),
        "deep_share": round(minutes.get("asleepDeep", 0.0) / asleep, 4) if asleep else None,
    }


def daily_mean(data_type, days):
    rows = health.aggregate([data_type]).daily().last_days(days).fetch()
    if not rows:
        return {"days": 0, "mean": None}
    return {"days": len(rows), "mean": sum(r.mean for r in rows) / len(rows)}


class SleepCoach(Plugin):
    @tool(
        "sleep-report",
        "Sleep stages, resting heart rate and HRV over the last nights",
        params={"days": {"type": "integer", "minimum": 1, "maximum": 14, "description": "Nights (default 7)"}},
    )
    def sleep_report(self, days=7):
        report = {"days": days}
        parts = [
            ("sleep", lambda: stages(days)),
            ("resting_heart_rate", lambda: daily_mean(DataType.RESTING_HEART_RATE, days)),
            ("hrv_sdnn_ms", lambda: daily_mean(DataType.HEART_RATE_VARIABILITY, days)),
        ]
        for key, part in parts:
            try:
                report[key] = part()
            except NotGranted as e:
                report[key] = refused(e)
        log.info(f"sleep report over {days} nights")
        return report


WitWorld = export(SleepCoach)
