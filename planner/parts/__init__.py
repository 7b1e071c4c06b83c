"""Parts you can buy: the catalogs of accelerators, servers, miners, switches, optics and cables."""
