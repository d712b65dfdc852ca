"""SNOMED CT codes for a DICOM SEG segment's segmented property category and type.

A class name is matched word by word (case-insensitive) against two small tables:

* abnormal structures (``lesion``, ``tumor``/``tumour``, ``neoplasm``, ``nodule``,
  ``mass``, ``cyst``, ``edema``/``oedema``, ``necrosis``): category *Morphologically
  Abnormal Structure* (SCT 49755003), type the matched concept;
* organs and tissues (``liver``, ``kidney``, ``lung``, ...): category *Anatomical
  Structure* (SCT 91723000), type the matched organ;
* anything else: category and type both *Tissue* (SCT 85756007), the generic code.

An abnormal word wins over an organ word (``"liver lesion"`` is a Lesion). The values are
those of DICOM PS3.16 (as listed by ``pydicom.sr.codedict``; a test checks they agree).
"""

from __future__ import annotations

import re

Coded = tuple[str, str]
"""(SNOMED CT code value, code meaning); the scheme designator is always ``SCT``."""

TISSUE: Coded = ("85756007", "Tissue")
ANATOMICAL_STRUCTURE: Coded = ("91723000", "Anatomical Structure")
ABNORMAL_STRUCTURE: Coded = ("49755003", "Morphologically Abnormal Structure")

ABNORMAL: dict[str, Coded] = {
    "lesion": ("52988006", "Lesion"),
    "tumor": ("108369006", "Tumor"),
    "tumour": ("108369006", "Tumor"),
    "neoplasm": ("108369006", "Neoplasm"),
    "nodule": ("27925004", "Nodule"),
    "mass": ("4147007", "Mass"),
    "cyst": ("367643001", "Cyst"),
    "edema": ("79654002", "Edema"),
    "oedema": ("79654002", "Edema"),
    "necrosis": ("6574001", "Necrosis"),
}

ANATOMY: dict[str, Coded] = {
    "liver": ("10200004", "Liver"),
    "kidney": ("64033007", "Kidney"),
    "lung": ("39607008", "Lung"),
    "heart": ("80891009", "Heart"),
    "spleen": ("78961009", "Spleen"),
    "brain": ("12738006", "Brain"),
    "bone": ("272673000", "Bone"),
    "prostate": ("41216001", "Prostate"),
    "pancreas": ("15776009", "Pancreas"),
    "aorta": ("15825003", "Aorta"),
    "bladder": ("89837001", "Bladder"),
    "stomach": ("69695003", "Stomach"),
    "vertebra": ("51282000", "Vertebra"),
    "eye": ("81745001", "Eye"),
    "breast": ("76752008", "Breast"),
    "colon": ("71854001", "Colon"),
    "esophagus": ("32849002", "Esophagus"),
    "trachea": ("44567001", "Trachea"),
    "gallbladder": ("28231008", "Gallbladder"),
    "muscle": ("71616004", "Muscle"),
    "skin": ("39937001", "Skin"),
}

_WORD = re.compile(r"[a-z]+")


def property_codes(class_name: str) -> tuple[Coded, Coded]:
    """(segmented property category, segmented property type) for a class name."""
    words = _WORD.findall(class_name.lower())
    for w in words:
        if w in ABNORMAL:
            return ABNORMAL_STRUCTURE, ABNORMAL[w]
    for w in words:
        if w in ANATOMY:
            return ANATOMICAL_STRUCTURE, ANATOMY[w]
    return TISSUE, TISSUE
