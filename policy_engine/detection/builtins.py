"""Presidio's built-in recognizers that a detectors directory may switch on.

:data:`BUILTIN_ENTITIES` is plain data (entity type → Presidio recognizer name) so that
loading and describing definitions needs no Presidio import; :func:`builtin_recognizers`
builds the recognizers from an explicit class table. Entity types produced by named-entity
recognition (:data:`NER_ENTITIES`) need the spaCy model and exist only in the
``presidio`` backend.

The e-mail recognizer is replaced by
:class:`~policy_engine.detection.offline_email.OfflineEmailRecognizer` (no network).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

#: The recognizer behind NER entity types (detector id ``presidio:SpacyRecognizer``).
NER_RECOGNIZER = "SpacyRecognizer"

#: Entity types found by the spaCy model's named-entity recognizer.
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP"})

#: Every built-in entity type a detectors directory may list, and its recognizer.
BUILTIN_ENTITIES: dict[str, str] = {
    "ABA_ROUTING_NUMBER": "AbaRoutingRecognizer",
    "AU_ABN": "AuAbnRecognizer",
    "AU_ACN": "AuAcnRecognizer",
    "AU_MEDICARE": "AuMedicareRecognizer",
    "AU_TFN": "AuTfnRecognizer",
    "CA_SIN": "CaSinRecognizer",
    "CREDIT_CARD": "CreditCardRecognizer",
    "CRYPTO": "CryptoRecognizer",
    "DATE_TIME": "DateRecognizer",
    "EMAIL_ADDRESS": "EmailRecognizer",
    "ES_NIE": "EsNieRecognizer",
    "ES_NIF": "EsNifRecognizer",
    "FI_PERSONAL_IDENTITY_CODE": "FiPersonalIdentityCodeRecognizer",
    "IBAN_CODE": "IbanRecognizer",
    "IN_AADHAAR": "InAadhaarRecognizer",
    "IN_PAN": "InPanRecognizer",
    "IN_PASSPORT": "InPassportRecognizer",
    "IN_VOTER": "InVoterRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "IT_DRIVER_LICENSE": "ItDriverLicenseRecognizer",
    "IT_FISCAL_CODE": "ItFiscalCodeRecognizer",
    "IT_IDENTITY_CARD": "ItIdentityCardRecognizer",
    "IT_PASSPORT": "ItPassportRecognizer",
    "KR_RRN": "KrRrnRecognizer",
    "LOCATION": NER_RECOGNIZER,
    "MAC_ADDRESS": "MacAddressRecognizer",
    "MEDICAL_LICENSE": "MedicalLicenseRecognizer",
    "NRP": NER_RECOGNIZER,
    "ORGANIZATION": NER_RECOGNIZER,
    "PERSON": NER_RECOGNIZER,
    "PHONE_NUMBER": "PhoneRecognizer",
    "PL_PESEL": "PlPeselRecognizer",
    "SG_NRIC_FIN": "SgFinRecognizer",
    "TH_TNIN": "ThTninRecognizer",
    "UK_NHS": "NhsRecognizer",
    "UK_NINO": "UkNinoRecognizer",
    "UK_PASSPORT": "UkPassportRecognizer",
    "URL": "UrlRecognizer",
    "US_BANK_NUMBER": "UsBankRecognizer",
    "US_DRIVER_LICENSE": "UsLicenseRecognizer",
    "US_ITIN": "UsItinRecognizer",
    "US_MBI": "UsMbiRecognizer",
    "US_NPI": "UsNpiRecognizer",
    "US_PASSPORT": "UsPassportRecognizer",
    "US_SSN": "UsSsnRecognizer",
}


def pattern_recognizer_classes() -> dict[str, Callable[..., EntityRecognizer]]:
    """Recognizer name → class, for every non-NER entry of :data:`BUILTIN_ENTITIES`."""
    from presidio_analyzer import predefined_recognizers as p

    from policy_engine.detection.offline_email import OfflineEmailRecognizer

    return {
        "AbaRoutingRecognizer": p.AbaRoutingRecognizer,
        "AuAbnRecognizer": p.AuAbnRecognizer,
        "AuAcnRecognizer": p.AuAcnRecognizer,
        "AuMedicareRecognizer": p.AuMedicareRecognizer,
        "AuTfnRecognizer": p.AuTfnRecognizer,
        "CaSinRecognizer": p.CaSinRecognizer,
        "CreditCardRecognizer": p.CreditCardRecognizer,
        "CryptoRecognizer": p.CryptoRecognizer,
        "DateRecognizer": p.DateRecognizer,
        "EmailRecognizer": OfflineEmailRecognizer,
        "EsNieRecognizer": p.EsNieRecognizer,
        "EsNifRecognizer": p.EsNifRecognizer,
        "FiPersonalIdentityCodeRecognizer": p.FiPersonalIdentityCodeRecognizer,
        "IbanRecognizer": p.IbanRecognizer,
        "InAadhaarRecognizer": p.InAadhaarRecognizer,
        "InPanRecognizer": p.InPanRecognizer,
        "InPassportRecognizer": p.InPassportRecognizer,
        "InVoterRecognizer": p.InVoterRecognizer,
        "IpRecognizer": p.IpRecognizer,
        "ItDriverLicenseRecognizer": p.ItDriverLicenseRecognizer,
        "ItFiscalCodeRecognizer": p.ItFiscalCodeRecognizer,
        "ItIdentityCardRecognizer": p.ItIdentityCardRecognizer,
        "ItPassportRecognizer": p.ItPassportRecognizer,
        "KrRrnRecognizer": p.KrRrnRecognizer,
        "MacAddressRecognizer": p.MacAddressRecognizer,
        "MedicalLicenseRecognizer": p.MedicalLicenseRecognizer,
        "NhsRecognizer": p.NhsRecognizer,
        "PhoneRecognizer": p.PhoneRecognizer,
        "PlPeselRecognizer": p.PlPeselRecognizer,
        "SgFinRecognizer": p.SgFinRecognizer,
        "ThTninRecognizer": p.ThTninRecognizer,
        "UkNinoRecognizer": p.UkNinoRecognizer,
        "UkPassportRecognizer": p.UkPassportRecognizer,
        "UrlRecognizer": p.UrlRecognizer,
        "UsBankRecognizer": p.UsBankRecognizer,
        "UsLicenseRecognizer": p.UsLicenseRecognizer,
        "UsItinRecognizer": p.UsItinRecognizer,
        "UsMbiRecognizer": p.UsMbiRecognizer,
        "UsNpiRecognizer": p.UsNpiRecognizer,
        "UsPassportRecognizer": p.UsPassportRecognizer,
        "UsSsnRecognizer": p.UsSsnRecognizer,
    }


def builtin_recognizers(
    entities: Iterable[str], *, with_ner: bool
) -> list[tuple[str, EntityRecognizer]]:
    """``(recognizer name, English recognizer)`` for ``entities``, sorted by name.

    NER entity types are skipped unless ``with_ner`` (the spaCy model is loaded).
    """
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    classes = pattern_recognizer_classes()
    wanted = sorted(set(entities))
    names = sorted({BUILTIN_ENTITIES[e] for e in wanted if e not in NER_ENTITIES})
    recognizers = [(name, classes[name](supported_language="en")) for name in names]
    ner_entities = [e for e in wanted if e in NER_ENTITIES]
    if with_ner and ner_entities:
        ner = SpacyRecognizer(supported_language="en", supported_entities=ner_entities)
        recognizers.append((NER_RECOGNIZER, ner))
    return recognizers
