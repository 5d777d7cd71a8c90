"""Deterministic, realistic demo drops: the values (`series`), how departments write them (`render`,
`xlsx`, `files`) and who plays which part in the demo story (`roles`). Entry point: `minsheng.demo_drops`."""
