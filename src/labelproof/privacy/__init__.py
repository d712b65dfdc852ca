"""Privacy: de-identification of DICOM (PS3.15 basic profile) and photos (metadata, faces).

Infrastructure layer: no web, no database. Each function returns the cleaned bytes and a
report of what it removed, replaced, kept and flagged, which the asset keeps.
"""
