"""A small customer base whose every KPI can be worked out by hand (see test_kpis_known.py).

20 customers acquired 2023-01 .. 2024-12, 38 orders; the data ends 2024-12-20 (last order).
Lifetime revenue ranks (value tiers, 2 customers per decile):
  top 10%: c06 900, c01 350 · next 20%: c10 300, c19 260, c03 200, c13 165
  middle 30%: c17 150, c16 130, c08 120, c11 120, c04 105, c02 100
  bottom 40%: c09 90, c18 80, c15 75, c05 70, c12 70, c07 50, c20 30, c14 20
"""

CUSTOMERS = """customer_id,acquired_at,acquisition_channel,region,segment
c01,2023-01-05,search,FR,consumer
c02,2023-01-10,search,BE,consumer
c03,2023-01-20,social,FR,business
c04,2023-02-03,referral,FR,consumer
c05,2023-02-14,social,BE,consumer
c06,2023-03-01,search,FR,business
c07,2023-03-15,referral,BE,consumer
c08,2023-06-10,search,FR,consumer
c09,2023-07-04,social,FR,consumer
c10,2023-09-09,referral,FR,business
c11,2023-11-11,search,BE,consumer
c12,2023-12-24,social,FR,consumer
c13,2024-01-08,search,FR,consumer
c14,2024-01-30,referral,BE,business
c15,2024-02-29,social,FR,consumer
c16,2024-03-01,search,FR,consumer
c17,2024-05-05,referral,FR,consumer
c18,2024-06-18,social,BE,consumer
c19,2024-09-01,search,FR,business
c20,2024-12-20,referral,FR,consumer
"""

ORDERS = """order_id,customer_id,ordered_at,revenue,cost,category,channel
o01,c01,2023-01-05 10:00,100,60,books,web
o02,c02,2023-01-10 11:00,40,25,home,web
o03,c03,2023-01-20 12:00,200,150,electronics,store
o04,c02,2023-01-25 09:00,60,35,books,app
o05,c04,2023-02-03 10:00,30,10,fashion,web
o06,c01,2023-02-10 10:00,50,30,books,web
o07,c05,2023-02-14 15:00,70,40,home,app
o08,c06,2023-03-01 08:00,500,400,electronics,store
o09,c01,2023-03-15 10:00,80,40,home,web
o10,c07,2023-03-15 16:00,25,10,fashion,app
o11,c06,2023-03-20 18:00,100,60,books,web
o12,c04,2023-04-01 10:00,30,10,fashion,web
o13,c08,2023-06-10 10:00,60,30,home,web
o14,c07,2023-06-15 10:00,25,10,fashion,app
o15,c09,2023-07-04 10:00,90,50,books,web
o16,c08,2023-08-01 10:00,60,30,home,web
o17,c10,2023-09-09 10:00,150,90,home,store
o18,c10,2023-10-01 10:00,50,20,fashion,web
o19,c11,2023-11-11 10:00,80,45,books,web
o20,c12,2023-12-24 10:00,35,15,fashion,app
o21,c12,2024-01-02 10:00,35,15,fashion,app
o22,c13,2024-01-08 10:00,110,70,electronics,web
o23,c01,2024-01-20 10:00,120,70,books,web
o24,c14,2024-01-30 10:00,20,8,fashion,app
o25,c13,2024-02-08 10:00,55,30,books,web
o26,c10,2024-02-10 10:00,100,60,home,store
o27,c11,2024-02-15 10:00,40,20,books,web
o28,c04,2024-02-29 09:00,45,15,fashion,web
o29,c15,2024-02-29 23:30,75,40,home,app
o30,c06,2024-03-01 00:00,300,240,electronics,store
o31,c16,2024-03-01 12:00,65,35,books,web
o32,c16,2024-04-10 10:00,65,35,books,web
o33,c17,2024-05-05 10:00,150,100,electronics,web
o34,c18,2024-06-18 10:00,40,20,home,app
o35,c18,2024-07-01 10:00,40,20,home,app
o36,c19,2024-09-01 10:00,200,120,electronics,store
o37,c19,2024-11-15 10:00,60,35,books,web
o38,c20,2024-12-20 10:00,30,12,fashion,web
"""

SPEND = """month,channel,spend
2023-01,search,300
2023-01,social,150
2023-01,referral,50
2023-02,search,100
2023-02,social,120
2023-02,referral,60
2023-03,search,250
2023-03,social,0
2023-03,referral,45
2024-01,search,220
2024-01,social,80
2024-01,referral,70
2024-02,search,200
2024-02,social,100
2024-02,referral,40
"""


def build_database(folder):
    """Write the fixture as CSV files in `folder` and import them into `folder/fixture.duckdb`."""
    from datetime import datetime
    from pathlib import Path

    from kpis.build import import_files

    folder = Path(folder)
    files = {}
    for name, text in (("customers", CUSTOMERS), ("orders", ORDERS), ("spend", SPEND)):
        files[name] = folder / f"{name}.csv"
        files[name].write_text(text)
    import_files(folder / "fixture.duckdb", now=datetime(2025, 1, 1), **files)
    return folder / "fixture.duckdb"
