"""The clinical records of the registry, one module per kind of record."""

from .assessment import Assessment, JadasVariant, Timepoint
from .common import RecordSource, TimingPrecision, ValueSource, YesNoUnknown
from .consent import Consent, ConsentKind, WithdrawalScope
from .events import (
    ActionTaken,
    AdverseEvent,
    AttributedBy,
    Attribution,
    EventCategory,
    FlareSeverity,
    Outcome,
    ReportedBy,
)
from .exports import ExportFormat, ExportLog, ExportVariant
from .follow_up import FollowUpStatus, VitalStatus
from .medication import Drug, DrugClass, MedicationCourse, ReasonStopped, RelationToMsc, StopDecidedBy
from .msc import (
    CertificateOfAnalysis,
    DonorType,
    MscAdministration,
    MscProduct,
    MscProvider,
    MscRoute,
    PaidBy,
    TissueSource,
    dose_per_kg,
)
from .patient import Diagnosis, FundingSource, JiaCategory, Patient, PreviousDiagnosis, ReviewStatus, Sex
from .quality import ChecklistItem, ChecklistStatement, DiscrepancyAcknowledgement, Statement
from .review import (
    SIGNATURE_MEANING,
    DataQuery,
    DataQueryMessage,
    QueryMessageKind,
    QueryStatus,
    ReviewAction,
    ReviewEvent,
)

__all__ = [
    "CertificateOfAnalysis",
    "ChecklistItem",
    "Consent",
    "ConsentKind",
    "WithdrawalScope",
    "ChecklistStatement",
    "DiscrepancyAcknowledgement",
    "ExportFormat",
    "FlareSeverity",
    "ExportLog",
    "ExportVariant",
    "Statement",
    "SIGNATURE_MEANING",
    "DataQuery",
    "DataQueryMessage",
    "QueryMessageKind",
    "QueryStatus",
    "ReviewAction",
    "ReviewEvent",
    "ReviewStatus",
    "ActionTaken",
    "AdverseEvent",
    "Assessment",
    "Attribution",
    "AttributedBy",
    "Diagnosis",
    "DonorType",
    "Drug",
    "DrugClass",
    "EventCategory",
    "FollowUpStatus",
    "FundingSource",
    "JadasVariant",
    "JiaCategory",
    "MedicationCourse",
    "MscAdministration",
    "MscProduct",
    "MscProvider",
    "MscRoute",
    "Outcome",
    "PaidBy",
    "Patient",
    "PreviousDiagnosis",
    "ReasonStopped",
    "RecordSource",
    "RelationToMsc",
    "ReportedBy",
    "Sex",
    "StopDecidedBy",
    "Timepoint",
    "TimingPrecision",
    "TissueSource",
    "ValueSource",
    "VitalStatus",
    "YesNoUnknown",
    "dose_per_kg",
]
