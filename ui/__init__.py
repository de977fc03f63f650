"""Streamlit glue shared by the pages (kpis/ and store/ never import streamlit)."""
