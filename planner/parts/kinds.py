"""Names of catalog kinds (kept apart so the CLI can import them without pydantic)."""

SINGULAR = {
    "accelerators": "accelerator", "servers": "server", "miners": "miner", "switches": "switch",
    "optics": "optic", "connectors": "connector", "cables": "cable", "fibers": "fiber",
    "patch_panels": "patch panel", "estimates": "estimate", "power_estimates": "power estimate",
    "site_costs": "site cost", "roles": "role",
    "line_systems": "line-system part",
}
