"""A small customer base whose voice-of-the-customer numbers can be worked out by hand (see test_voice.py).

8 customers (c01..c08), 19 orders, 32 survey answers in March and April 2024 (6 anonymous), comments in
French and English, a few carrying an e-mail address or a phone number. The data ends 2024-07-05 (o19).

NPS (touchpoint relationship), score → group (P promoter 9–10, . passive 7–8, D detractor 0–6):
  March  f01 c01 10 P · f02 c02 9 P · f03 c03 9 P · f04 anon 10 P · f05 anon 9 P · f06 c04 8 . ·
         f07 c05 7 . · f08 c06 3 D · f09 c07 5 D · f10 anon 0 D            → 10 answers: 5 P, 2 ., 3 D
  April  f11 c08 10 P · f12 c01 6 D · f13 anon 2 D · f14 c03 8 .          →  4 answers: 1 P, 1 ., 2 D
CSAT (satisfied 4–5):  website f15 c01 5 · f16 c02 4 · f17 anon 2 (March)
                       delivery f18 c03 1 · f19 c05 4 (March)
                       returns f20 c06 2 (March) · f21 c07 3 (April)
                       support f22 c04 5 (April)
CES (1 low … 5 high):  website f23 c02 1 · f24 anon 2 (March)
                       checkout f25 c05 2 (March) · f26 c08 3 (April)
                       delivery f27 c03 4 · f28 c07 3 (March)
                       returns f29 c06 5 (March) · f30 c07 4 · f31 anon 5 (April)
                       support f32 c04 5 (April)
Regions: FR c01 c02 c05 c07 c08 · BE c03 c04 c06. Segments: business c02 c06, consumer the others.
"""

from __future__ import annotations

import csv
from pathlib import Path

CUSTOMERS = """customer_id,acquired_at,acquisition_channel,region,segment
c01,2023-05-10,search,FR,consumer
c02,2023-06-01,search,FR,business
c03,2023-07-15,social,BE,consumer
c04,2023-08-20,referral,BE,consumer
c05,2023-09-05,social,FR,consumer
c06,2023-10-01,search,BE,business
c07,2023-11-11,referral,FR,consumer
c08,2024-01-05,search,FR,consumer
"""

ORDERS = """order_id,customer_id,ordered_at,revenue,cost,category,channel
o01,c01,2023-05-10 10:00,100,60,books,web
o02,c01,2023-09-01 10:00,80,40,books,web
o03,c01,2024-02-01 10:00,60,30,home,web
o04,c02,2023-06-01 10:00,200,120,electronics,store
o05,c02,2023-12-01 10:00,300,200,electronics,store
o06,c02,2024-05-10 10:00,250,150,home,web
o07,c03,2023-07-15 10:00,50,25,books,app
o08,c03,2024-04-20 10:00,70,35,fashion,app
o09,c04,2023-08-20 10:00,90,45,home,web
o10,c05,2023-09-05 10:00,40,20,fashion,app
o11,c05,2024-03-10 10:00,40,20,fashion,app
o12,c05,2024-06-30 23:00,40,20,fashion,app
o13,c06,2023-10-01 10:00,150,90,electronics,store
o14,c06,2024-01-15 10:00,150,90,electronics,store
o15,c07,2023-11-11 10:00,30,15,books,web
o16,c07,2024-07-05 10:00,30,15,books,web
o17,c08,2024-01-05 10:00,100,50,home,web
o18,c08,2024-04-20 11:00,60,30,home,web
o19,c08,2024-06-01 10:00,40,20,books,web
"""

FEEDBACK_COLUMNS = ("feedback_id", "customer_id", "answered_at", "survey", "score", "touchpoint", "comment")
FEEDBACK = [
    # --- NPS, March 2024 ---
    ("f01", "c01", "2024-03-02 10:00", "nps", 10, "relationship",
     "Great selection, I recommend you to all my friends."),
    ("f02", "c02", "2024-03-05 10:00", "nps", 9, "relationship", "Livraison rapide et service client au top !"),
    ("f03", "c03", "2024-03-08 10:00", "nps", 9, "relationship", "Reliable, fair prices."),
    ("f04", "", "2024-03-10 10:00", "nps", 10, "relationship", ""),
    ("f05", "", "2024-03-12 10:00", "nps", 9, "relationship", "Très bon rapport qualité-prix."),
    ("f06", "c04", "2024-03-14 10:00", "nps", 8, "relationship", "Correct, sans plus."),
    ("f07", "c05", "2024-03-16 10:00", "nps", 7, "relationship", ""),
    ("f08", "c06", "2024-03-20 10:00", "nps", 3, "relationship",
     "Parcel arrived a week late. Write to me at jean.dupont+sav@mail.example.fr"),
    ("f09", "c07", "2024-03-25 10:00", "nps", 5, "relationship",
     "Livraison avec une semaine de retard ! Rappelez-moi au 06.12.34.56.78"),
    ("f10", "", "2024-03-28 10:00", "nps", 0, "relationship", "Way too expensive, and the app keeps crashing."),
    # --- NPS, April 2024 ---
    ("f11", "c08", "2024-04-03 10:00", "nps", 10, "relationship", "Super service, je recommande."),
    ("f12", "c01", "2024-04-06 10:00", "nps", 6, "relationship",
     "Delivery was late again and support never answered. Call me on +33 6 12 34 56 78"),
    ("f13", "", "2024-04-09 10:00", "nps", 2, "relationship", "Colis abîmé, produit cassé."),
    ("f14", "c03", "2024-04-15 10:00", "nps", 8, "relationship", "Good, but the website is slow."),
    # --- CSAT ---
    ("f15", "c01", "2024-03-03 10:00", "csat", 5, "website", "Easy to find what I wanted."),
    ("f16", "c02", "2024-03-04 10:00", "csat", 4, "website", ""),
    ("f17", "", "2024-03-06 10:00", "csat", 2, "website", "Le site est lent, navigation pénible."),
    ("f18", "c03", "2024-03-09 10:00", "csat", 1, "delivery", "Late delivery, no tracking."),
    ("f19", "c05", "2024-03-11 10:00", "csat", 4, "delivery", ""),
    ("f20", "c06", "2024-03-21 10:00", "csat", 2, "returns", "Still waiting for my refund."),
    ("f21", "c07", "2024-04-02 10:00", "csat", 3, "returns", "Retour accepté mais remboursement un peu long."),
    ("f22", "c04", "2024-04-10 10:00", "csat", 5, "support",
     "Conseillère très à l'écoute, merci ! Mon mail : marie.martin@example.com"),
    # --- CES ---
    ("f23", "c02", "2024-03-04 11:00", "ces", 1, "website", ""),
    ("f24", "", "2024-03-07 10:00", "ces", 2, "website", ""),
    ("f25", "c05", "2024-03-11 11:00", "ces", 2, "checkout", "Paiement rapide."),
    ("f26", "c08", "2024-04-03 11:00", "ces", 3, "checkout", ""),
    ("f27", "c03", "2024-03-09 11:00", "ces", 4, "delivery", "Le livreur n'est jamais passé."),
    ("f28", "c07", "2024-03-26 10:00", "ces", 3, "delivery", ""),
    ("f29", "c06", "2024-03-22 10:00", "ces", 5, "returns",
     "Returning an item is a nightmare: you need a printer for the label."),
    ("f30", "c07", "2024-04-02 11:00", "ces", 4, "returns",
     "Retour payant, étiquette impossible à imprimer. Tél 01 23 45 67 89"),
    ("f31", "", "2024-04-12 10:00", "ces", 5, "returns", "Return label never arrived, call (555) 123-4567."),
    ("f32", "c04", "2024-04-10 11:00", "ces", 5, "support", ""),
]


def write_files(folder: Path) -> dict[str, Path]:
    """The three CSV files, ready for store.importer.import_files(**files)."""
    files = {"customers": folder / "customers.csv", "orders": folder / "orders.csv",
             "feedback": folder / "feedback.csv"}
    files["customers"].write_text(CUSTOMERS, encoding="utf-8")
    files["orders"].write_text(ORDERS, encoding="utf-8")
    with files["feedback"].open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FEEDBACK_COLUMNS)
        writer.writerows(FEEDBACK)
    return files
