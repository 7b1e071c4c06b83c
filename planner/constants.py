"""Domain constants, written once: units of time and power, and the bitcoin protocol's figures.

Every stage imports these from here rather than writing the number again; this module imports
nothing, so it stands at the package's root beside ``errors``. A figure that changes with time
(the block subsidy) carries its source and date.
"""

from __future__ import annotations

# --- time -------------------------------------------------------------------------------
# The planner's year is a calendar year of 365 days (a leap year's extra day is not counted):
# price profiles are weighted to it and every yearly figure (opex, revenue) is spread over it.
HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365.0
HOURS_PER_YEAR = 8760.0  # 365 days x 24 h
MONTHS_PER_YEAR = 12  # the cash-flow model runs month by month: yearly figures / 12
SECONDS_PER_DAY = 86_400  # 24 h x 3,600 s
DAYS_PER_WEEK = 7
MINUTES_PER_HOUR = 60

# --- power and energy ---------------------------------------------------------------------
W_PER_KW = 1e3  # watts in a kilowatt (rack densities are given in kW)
W_PER_MW = 1e6  # watts in a megawatt (part figures are in W, grid and loads in MW)
W_PER_GW = 1e9  # watts in a gigawatt (the bitcoin network's power)
KWH_PER_MWH = 1000.0  # a price in USD/kWh x 1,000 is USD/MWh

# --- money ---------------------------------------------------------------------------------
USD_PER_MUSD = 1e6  # figures shown in millions of USD (M USD)

# --- compute and hashing -----------------------------------------------------------------
FLOPS_PER_TFLOPS = 1e12  # a datasheet's TFLOPS in FLOP/s
HS_PER_THS = 1e12  # hashes per second in one TH/s (a miner's rating)
HS_PER_EHS = 1e18  # hashes per second in one EH/s (the network's hashrate)
THS_PER_EHS = 1e6  # TH/s in one EH/s: miners = network EH/s x 1e6 / TH/s per miner
THS_PER_PHS = 1000.0  # TH/s in one PH/s (hashprice is quoted per TH/s or per PH/s a day)

# --- the bitcoin protocol -----------------------------------------------------------------
# A block needs on average difficulty x 2^32 hashes (difficulty 1 is a target of 2^224, i.e.
# 2^256 / 2^32), and the protocol retargets the difficulty to one block every 600 s, so
# 86,400 / 600 = 144 blocks a day. Source: Bitcoin Core, src/pow.cpp and src/kernel/chainparams.cpp
# (nPowTargetSpacing = 10 * 60), and the Bitcoin wiki "Difficulty".
HASHES_PER_DIFFICULTY = 2**32
BLOCK_SECONDS = 600
# The subsidy starts at 50 BTC and halves every 210,000 blocks (Bitcoin Core,
# src/validation.cpp GetBlockSubsidy; consensus.nSubsidyHalvingInterval = 210000).
INITIAL_SUBSIDY_BTC = 50.0
HALVING_INTERVAL_BLOCKS = 210_000
# The subsidy now paid: 3.125 BTC = 50 / 2^4, since the fourth halving at block 840,000
# (20 April 2024); it halves to 1.5625 BTC at block 1,050,000 (expected in 2028). The default
# of the site file's economics.block_subsidy_btc and of planner size mining --subsidy-btc.
BLOCK_SUBSIDY_BTC = 3.125
