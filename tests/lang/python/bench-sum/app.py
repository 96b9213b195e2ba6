"""Bench Sum in Python: queries samples and sums their values in the
guest, as the Rust bench-sum fixture does (B4, B13)."""

from healthplug import DataType, Fields, Plugin, export, health, tool


class BenchSum(Plugin):
    @tool("sum", "Query raw samples and sum their values", params={"count_only": {"type": "boolean"}})
    def sum(self, count_only=False):
        samples = health.query([DataType.STEPS]).between(0, 2**63 - 1).fields(Fields.VALUE).fetch()
        if count_only:
            return {"count": len(samples)}
        values = samples.values or []
        return {"count": len(samples), "sum": sum(values)}

    @tool("noop", "Return at once")
    def noop(self):
        return {}


WitWorld = export(BenchSum)
