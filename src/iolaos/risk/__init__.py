"""The daily fire-risk map: category 1–5 per zone per date, with its history."""
