"""SEC SIC codes (EDGAR ``submissions``: ``sic``, ``sicDescription``) -> our GICS-like sectors.

SIC is an industry code from 1987, GICS a sector scheme; there is no official crosswalk, so this
one is ours and stated here in full. Ranges are inclusive 4-digit SIC codes; the first matching
row wins, so the specific exceptions come before the broad major groups.

======================  ===============================================================
sector                  SIC codes
======================  ===============================================================
Health Care             2833-2836 drugs; 3841-3851 medical instruments; 5047, 5122
                        medical/drug wholesale; 8000-8099 health services; 8731 research
Consumer Staples        0100-0299, 0700-0799, 0900-0999 agriculture; 2000-2199 food,
                        tobacco; 2840-2844 soaps, cosmetics; 5140-5199 grocery wholesale;
                        5331 variety stores; 5400-5499 food stores; 5912 drug stores
Energy                  1200-1399 coal, oil and gas; 2900-2999 refining; 4610-4619
                        pipelines; 4922-4923 gas transmission; 5170-5172 petroleum
                        wholesale
Materials               0800-0899 forestry; 1000-1099, 1400-1499 mining; 2400-2499
                        lumber; 2600-2699 paper; 2800-2899 chemicals (after the drug and
                        cosmetics exceptions); 3000-3099 rubber, plastics; 3200-3399
                        stone, glass, metals
Information Technology  3570-3579 computers; 3600-3699 electronics (after the appliance
                        exceptions); 3820-3829 measuring instruments; 3861 photographic;
                        7370-7379 software and IT services
Consumer Discretionary  1531 homebuilders; 2200-2399 textiles, apparel; 2500-2599
                        furniture; 3100-3199 leather; 3630-3639 appliances; 3651
                        household audio; 3710-3716, 3750-3751 vehicles; 3900-3999 misc.
                        manufacturing; 5200-5999 retail (after the staples exceptions);
                        7000-7299 hotels, personal services; 7500-7599 auto repair;
                        7900-7999 amusement; 8200-8299 education
Communication Services  2700-2799 publishing; 4800-4899 telecom, broadcasting; 7810-7841
                        motion pictures
Utilities               4900-4949 (after the pipeline exceptions); 4960-4999
Real Estate             6500-6599 real estate; 6798 REITs
Financials              6000-6799 banks, brokers, insurance, holding companies
Industrials             1500-1799 construction; 3400-3599 metal products, machinery;
                        3700-3799 transport equipment; 3800-3899 other instruments;
                        4000-4799 transportation; 4950-4959 waste; 5000-5099 wholesale;
                        7300-7399 business services; 8100-8999 other services
======================  ===============================================================

Codes outside every range (e.g. 9995 non-operating establishments) map to None and the row is
quarantined as ``missing_sector``. Known limits: 7370 puts Alphabet and Meta in Information
Technology (GICS: Communication Services); a ``sectors`` file dropped through the files source
overrides any symbol.
"""

from __future__ import annotations

from typing import Final

#: (first, last, sector), first match wins
SIC_RANGES: Final[tuple[tuple[int, int, str], ...]] = (
    # exceptions inside broader major groups
    (1531, 1531, "Consumer Discretionary"),
    (2833, 2836, "Health Care"),
    (2840, 2844, "Consumer Staples"),
    (3570, 3579, "Information Technology"),
    (3630, 3639, "Consumer Discretionary"),
    (3651, 3651, "Consumer Discretionary"),
    (3710, 3716, "Consumer Discretionary"),
    (3750, 3751, "Consumer Discretionary"),
    (3820, 3829, "Information Technology"),
    (3841, 3851, "Health Care"),
    (3861, 3861, "Information Technology"),
    (4610, 4619, "Energy"),
    (4922, 4923, "Energy"),
    (4950, 4959, "Industrials"),
    (5047, 5047, "Health Care"),
    (5122, 5122, "Health Care"),
    (5170, 5172, "Energy"),
    (5140, 5199, "Consumer Staples"),
    (5331, 5331, "Consumer Staples"),
    (5400, 5499, "Consumer Staples"),
    (5912, 5912, "Consumer Staples"),
    (6798, 6798, "Real Estate"),
    (7370, 7379, "Information Technology"),
    (7810, 7841, "Communication Services"),
    (8731, 8731, "Health Care"),
    # major groups
    (100, 299, "Consumer Staples"),
    (700, 799, "Consumer Staples"),
    (800, 899, "Materials"),
    (900, 999, "Consumer Staples"),
    (1000, 1099, "Materials"),
    (1200, 1399, "Energy"),
    (1400, 1499, "Materials"),
    (1500, 1799, "Industrials"),
    (2000, 2199, "Consumer Staples"),
    (2200, 2399, "Consumer Discretionary"),
    (2400, 2499, "Materials"),
    (2500, 2599, "Consumer Discretionary"),
    (2600, 2699, "Materials"),
    (2700, 2799, "Communication Services"),
    (2800, 2899, "Materials"),
    (2900, 2999, "Energy"),
    (3000, 3099, "Materials"),
    (3100, 3199, "Consumer Discretionary"),
    (3200, 3399, "Materials"),
    (3400, 3599, "Industrials"),
    (3600, 3699, "Information Technology"),
    (3700, 3799, "Industrials"),
    (3800, 3899, "Industrials"),
    (3900, 3999, "Consumer Discretionary"),
    (4000, 4799, "Industrials"),
    (4800, 4899, "Communication Services"),
    (4900, 4999, "Utilities"),
    (5000, 5099, "Industrials"),
    (5200, 5999, "Consumer Discretionary"),
    (6500, 6599, "Real Estate"),
    (6000, 6799, "Financials"),
    (7000, 7299, "Consumer Discretionary"),
    (7300, 7399, "Industrials"),
    (7500, 7599, "Consumer Discretionary"),
    (7900, 7999, "Consumer Discretionary"),
    (8000, 8099, "Health Care"),
    (8200, 8299, "Consumer Discretionary"),
    (8100, 8999, "Industrials"),
)


def sector_of(sic: object) -> str | None:
    """The sector of a SIC code (``"3571"``, ``3571``), or None when unmapped or not a code."""
    try:
        code = int(str(sic).strip())
    except ValueError:
        return None
    for first, last, sector in SIC_RANGES:
        if first <= code <= last:
            return sector
    return None
