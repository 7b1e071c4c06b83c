"""Energy and markets: electricity prices, bitcoin mining, compute demand, discounting."""
