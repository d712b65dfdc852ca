"""PS3.15 Annex E Table E.1-1: the Basic Application Level Confidentiality Profile, as data.

One row per attribute: ``tag|basic profile action|options|name``, where ``tag`` is
``GGGGEEEE`` in hex (``x`` marks a repeating-group digit, e.g. ``60xx3000``), the action is
one of ``D Z X K C U`` or a combination (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``), and
options holds ``L`` when the *Retain Longitudinal Temporal Information with Modified Dates*
option (DCM 113107) says C (modify the date rather than remove it). Names are the standard's.

Transcribed from the standard's Table E.1-1 (the edition current in early 2025, 621 rows);
this module is data only. The row tagged ``PRIVATE`` stands for every private attribute
(odd group), which the basic profile removes.
"""

from __future__ import annotations

TABLE_E1_1 = """\
PRIVATE|X||Private Attributes, (gggg,eeee) where gggg is odd
00001000|X||Affected SOP Instance UID
00001001|U||Requested SOP Instance UID
00020003|U||Media Storage SOP Instance UID
00041511|U||Referenced SOP Instance UID in File
00080012|X/D|L|Instance Creation Date
00080013|X/Z/D|L|Instance Creation Time
00080014|U||Instance Creator UID
00080015|X|L|Instance Coercion DateTime
00080017|U||Acquisition UID
00080018|U||SOP Instance UID
00080019|U||Pyramid UID
00080020|Z|L|Study Date
00080021|X/D|L|Series Date
00080022|X/Z|L|Acquisition Date
00080023|Z/D|L|Content Date
00080024|X|L|Overlay Date
00080025|X|L|Curve Date
0008002A|X/Z/D|L|Acquisition DateTime
00080030|Z|L|Study Time
00080031|X/D|L|Series Time
00080032|X/Z|L|Acquisition Time
00080033|Z/D|L|Content Time
00080034|X|L|Overlay Time
00080035|X|L|Curve Time
00080050|Z||Accession Number
00080054|X||Retrieve AE Title
00080055|X||Station AE Title
00080058|U||Failed SOP Instance UID List
00080080|X/Z/D||Institution Name
00080081|X||Institution Address
00080082|X/Z/D||Institution Code Sequence
00080090|Z||Referring Physician's Name
00080092|X||Referring Physician's Address
00080094|X||Referring Physician's Telephone Numbers
00080096|X||Referring Physician Identification Sequence
0008009C|Z||Consulting Physician's Name
0008009D|X||Consulting Physician Identification Sequence
00080106|D|L|Context Group Version
00080107|D|L|Context Group Local Version
00080201|X|L|Timezone Offset From UTC
00081000|X||Network ID
00081010|X/Z/D||Station Name
00081030|X||Study Description
0008103E|X||Series Description
00081040|X||Institutional Department Name
00081041|X||Institutional Department Type Code Sequence
00081048|X||Physician(s) of Record
00081049|X||Physician(s) of Record Identification Sequence
00081050|X||Performing Physician's Name
00081052|X||Performing Physician Identification Sequence
00081060|X||Name of Physician(s) Reading Study
00081062|X||Physician(s) Reading Study Identification Sequence
00081070|X/Z/D||Operators' Name
00081072|X/D||Operator Identification Sequence
00081080|X||Admitting Diagnoses Description
00081084|X||Admitting Diagnoses Code Sequence
00081088|X||Pyramid Description
00081110|X/Z||Referenced Study Sequence
00081111|X/Z/D||Referenced Performed Procedure Step Sequence
00081120|X||Referenced Patient Sequence
00081140|X/Z/U*||Referenced Image Sequence
00081155|U||Referenced SOP Instance UID
00081195|U||Transaction UID
00082111|X||Derivation Description
00082112|X/Z/U*||Source Image Sequence
00083010|U||Irradiation Event UID
00084000|X||Identifying Comments
00100010|Z||Patient's Name
00100020|Z/D||Patient ID
00100021|X||Issuer of Patient ID
00100030|Z||Patient's Birth Date
00100032|X||Patient's Birth Time
00100040|Z||Patient's Sex
00100050|X||Patient's Insurance Plan Code Sequence
00100101|X||Patient's Primary Language Code Sequence
00100102|X||Patient's Primary Language Modifier Code Sequence
00101000|X||Other Patient IDs
00101001|X||Other Patient Names
00101002|X||Other Patient IDs Sequence
00101005|X||Patient's Birth Name
00101010|X||Patient's Age
00101020|X||Patient's Size
00101030|X||Patient's Weight
00101040|X||Patient's Address
00101050|X||Insurance Plan Identification
00101060|X||Patient's Mother's Birth Name
00101080|X||Military Rank
00101081|X||Branch of Service
00101090|X||Medical Record Locator
00101100|X||Referenced Patient Photo Sequence
00102000|X||Medical Alerts
00102110|X||Allergies
00102150|X||Country of Residence
00102152|X||Region of Residence
00102154|X||Patient's Telephone Numbers
00102155|X||Patient's Telecom Information
00102160|X||Ethnic Group
00102180|X||Occupation
001021A0|X||Smoking Status
001021B0|X||Additional Patient History
001021C0|X||Pregnancy Status
001021D0|X|L|Last Menstrual Date
001021F0|X||Patient's Religious Preference
00102203|X/Z||Patient's Sex Neutered
00102297|X||Responsible Person
00102299|X||Responsible Organization
00104000|X||Patient Comments
00120010|D||Clinical Trial Sponsor Name
00120020|D||Clinical Trial Protocol ID
00120021|Z||Clinical Trial Protocol Name
00120022|X||Issuer of Clinical Trial Protocol ID
00120023|X||Other Clinical Trial Protocol IDs Sequence
00120030|Z||Clinical Trial Site ID
00120031|Z||Clinical Trial Site Name
00120032|X||Issuer of Clinical Trial Site ID
00120040|D||Clinical Trial Subject ID
00120041|X||Issuer of Clinical Trial Subject ID
00120042|D||Clinical Trial Subject Reading ID
00120043|X||Issuer of Clinical Trial Subject Reading ID
00120050|Z||Clinical Trial Time Point ID
00120051|X||Clinical Trial Time Point Description
00120055|X||Issuer of Clinical Trial Time Point ID
00120060|Z||Clinical Trial Coordinating Center Name
00120071|X||Clinical Trial Series ID
00120072|X||Clinical Trial Series Description
00120073|X||Issuer of Clinical Trial Series ID
00120081|D||Clinical Trial Protocol Ethics Committee Name
00120082|X||Clinical Trial Protocol Ethics Committee Approval Number
00120086|X|L|Ethics Committee Approval Effectiveness Start Date
00120087|X|L|Ethics Committee Approval Effectiveness End Date
0014407C|X|L|Calibration Time
0014407E|X|L|Calibration Date
0016002B|X||Maker Note
0016004B|X||Device Setting Description
0016004D|X||Camera Owner Name
0016004E|X||Lens Specification
0016004F|X||Lens Make
00160050|X||Lens Model
00160051|X||Lens Serial Number
00160070|X||GPS Version ID
00160071|X||GPS Latitude Ref
00160072|X||GPS Latitude
00160073|X||GPS Longitude Ref
00160074|X||GPS Longitude
00160075|X||GPS Altitude Ref
00160076|X||GPS Altitude
00160077|X||GPS Time Stamp
00160078|X||GPS Satellites
00160079|X||GPS Status
0016007A|X||GPS Measure Mode
0016007B|X||GPS DOP
0016007C|X||GPS Speed Ref
0016007D|X||GPS Speed
0016007E|X||GPS Track Ref
0016007F|X||GPS Track
00160080|X||GPS Img Direction Ref
00160081|X||GPS Img Direction
00160082|X||GPS Map Datum
00160083|X||GPS Dest Latitude Ref
00160084|X||GPS Dest Latitude
00160085|X||GPS Dest Longitude Ref
00160086|X||GPS Dest Longitude
00160087|X||GPS Dest Bearing Ref
00160088|X||GPS Dest Bearing
00160089|X||GPS Dest Distance Ref
0016008A|X||GPS Dest Distance
0016008B|X||GPS Processing Method
0016008C|X||GPS Area Information
0016008D|X|L|GPS Date Stamp
0016008E|X||GPS Differential
00180010|Z/D||Contrast/Bolus Agent
00180027|X|L|Intervention Drug Stop Time
00180035|X|L|Intervention Drug Start Time
00181000|X/Z/D||Device Serial Number
00181002|U||Device UID
00181004|X||Plate ID
00181005|X||Generator ID
00181007|X||Cassette ID
00181008|X||Gantry ID
00181009|X||Unique Device Identifier
0018100A|X||UDI Sequence
0018100B|U||Manufacturer's Device Class UID
00181012|X|L|Date of Secondary Capture
00181014|X|L|Time of Secondary Capture
00181030|X/D||Protocol Name
00181042|X|L|Contrast/Bolus Start Time
00181043|X|L|Contrast/Bolus Stop Time
00181072|X|L|Radiopharmaceutical Start Time
00181073|X|L|Radiopharmaceutical Stop Time
00181078|X|L|Radiopharmaceutical Start DateTime
00181079|X|L|Radiopharmaceutical Stop DateTime
001811BB|D||Acquisition Field Of View Label
00181200|X|L|Date of Last Calibration
00181201|X|L|Time of Last Calibration
00181202|X|L|DateTime of Last Calibration
00181203|Z|L|Calibration DateTime
00181204|X|L|Date of Manufacture
00181205|X|L|Date of Installation
00181400|X/D||Acquisition Device Processing Description
00182042|U||Target UID
00184000|X||Acquisition Comments
00185011|X||Transducer Identification Sequence
0018700A|X/D||Detector ID
0018700C|X/D|L|Date of Last Detector Calibration
0018700E|X/D|L|Time of Last Detector Calibration
00189074|D|L|Frame Acquisition DateTime
00189151|D|L|Frame Reference DateTime
00189185|X||Respiratory Motion Compensation Technique Description
00189367|D||X-Ray Source ID
00189369|D|L|Source Start DateTime
0018936A|D|L|Source End DateTime
00189371|D||X-Ray Detector ID
00189373|X||X-Ray Detector Label
0018937B|X||Multi-energy Acquisition Description
0018937F|X||Decomposition Description
00189424|X||Acquisition Protocol Description
00189516|X/D|L|Start Acquisition DateTime
00189517|X/D|L|End Acquisition DateTime
00189623|D|L|Functional Sync Pulse
00189701|D|L|Decay Correction DateTime
00189804|D|L|Exclusion Start DateTime
00189919|Z/D|L|Instruction Performed DateTime
00189937|X||Requested Series Description
0018A002|X|L|Contribution DateTime
0018A003|X||Contribution Description
0020000D|U||Study Instance UID
0020000E|U||Series Instance UID
00200010|Z||Study ID
00200027|X||Pyramid Label
00200052|U||Frame of Reference UID
00200200|U||Synchronization Frame of Reference UID
00203401|X||Modifying Device ID
00203403|X|L|Modified Image Date
00203405|X|L|Modified Image Time
00203406|X||Modified Image Description
00204000|X||Image Comments
00209158|X||Frame Comments
00209161|U||Concatenation UID
00209164|U||Dimension Organization UID
00281199|U||Palette Color Lookup Table UID
00281214|U||Large Palette Color Lookup Table UID
00284000|X||Image Presentation Comments
00320012|X||Study ID Issuer
00320032|X|L|Study Verified Date
00320033|X|L|Study Verified Time
00320034|X|L|Study Read Date
00320035|X|L|Study Read Time
00321000|X|L|Scheduled Study Start Date
00321001|X|L|Scheduled Study Start Time
00321010|X|L|Scheduled Study Stop Date
00321011|X|L|Scheduled Study Stop Time
00321020|X||Scheduled Study Location
00321021|X||Scheduled Study Location AE Title
00321030|X||Reason for Study
00321032|X||Requesting Physician
00321033|X||Requesting Service
00321040|X|L|Study Arrival Date
00321041|X|L|Study Arrival Time
00321050|X|L|Study Completion Date
00321051|X|L|Study Completion Time
00321060|X/Z||Requested Procedure Description
00321066|X||Reason for Visit
00321067|X||Reason for Visit Code Sequence
00321070|X||Requested Contrast Agent
00324000|X||Study Comments
00340001|D||Flow Identifier Sequence
00340002|D||Flow Identifier
00340005|D||Source Identifier
00340007|D|L|Frame Origin Timestamp
00380004|X||Referenced Patient Alias Sequence
00380010|X||Admission ID
00380011|X||Issuer of Admission ID
00380014|X||Issuer of Admission ID Sequence
0038001A|X|L|Scheduled Admission Date
0038001B|X|L|Scheduled Admission Time
0038001C|X|L|Scheduled Discharge Date
0038001D|X|L|Scheduled Discharge Time
0038001E|X||Scheduled Patient Institution Residence
00380020|X|L|Admitting Date
00380021|X|L|Admitting Time
00380030|X|L|Discharge Date
00380032|X|L|Discharge Time
00380040|X||Discharge Diagnosis Description
00380050|X||Special Needs
00380060|X||Service Episode ID
00380061|X||Issuer of Service Episode ID
00380062|X||Service Episode Description
00380064|X||Issuer of Service Episode ID Sequence
00380300|X||Current Patient Location
00380400|X||Patient's Institution Residence
00380500|X||Patient State
00384000|X||Visit Comments
003A0310|U||Multiplex Group UID
003A0314|D|L|Impedance Measurement DateTime
003A0329|X||Waveform Filter Description
003A032B|X||Filter Lookup Table Description
00400001|X||Scheduled Station AE Title
00400002|X|L|Scheduled Procedure Step Start Date
00400003|X|L|Scheduled Procedure Step Start Time
00400004|X|L|Scheduled Procedure Step End Date
00400005|X|L|Scheduled Procedure Step End Time
00400006|X||Scheduled Performing Physician's Name
00400007|X||Scheduled Procedure Step Description
00400009|X||Scheduled Procedure Step ID
0040000B|X||Scheduled Performing Physician Identification Sequence
00400010|X||Scheduled Station Name
00400011|X||Scheduled Procedure Step Location
00400012|X||Pre-Medication
00400241|X||Performed Station AE Title
00400242|X||Performed Station Name
00400243|X||Performed Location
00400244|X|L|Performed Procedure Step Start Date
00400245|X|L|Performed Procedure Step Start Time
00400250|X|L|Performed Procedure Step End Date
00400251|X|L|Performed Procedure Step End Time
00400253|X||Performed Procedure Step ID
00400254|X||Performed Procedure Step Description
00400275|X||Request Attributes Sequence
00400280|X||Comments on the Performed Procedure Step
00400310|X||Comments on Radiation Dose
0040050A|X||Specimen Accession Number
00400512|D||Container Identifier
00400513|Z||Issuer of the Container Identifier Sequence
0040051A|X||Container Description
00400551|D||Specimen Identifier
00400554|U||Specimen UID
00400555|X/Z||Acquisition Context Sequence
00400562|Z||Issuer of the Specimen Identifier Sequence
00400600|X||Specimen Short Description
00400602|X||Specimen Detailed Description
00400610|Z||Specimen Preparation Sequence
004006FA|X||Slide Identifier
00401001|X||Requested Procedure ID
00401002|X||Reason for the Requested Procedure
00401004|X||Patient Transport Arrangements
00401005|X||Requested Procedure Location
0040100A|X||Reason for Requested Procedure Code Sequence
00401010|X||Names of Intended Recipients of Results
00401011|X||Intended Recipients of Results Identification Sequence
00401101|D||Person Identification Code Sequence
00401102|X||Person's Address
00401103|X||Person's Telephone Numbers
00401104|X||Person's Telecom Information
00401400|X||Requested Procedure Comments
00402001|X||Reason for the Imaging Service Request
00402004|X|L|Issue Date of Imaging Service Request
00402005|X|L|Issue Time of Imaging Service Request
00402008|X||Order Entered By
00402009|X||Order Enterer's Location
00402010|X||Order Callback Phone Number
00402011|X||Order Callback Telecom Information
00402016|Z||Placer Order Number / Imaging Service Request
00402017|Z||Filler Order Number / Imaging Service Request
00402400|X||Imaging Service Request Comments
00403001|X||Confidentiality Constraint on Patient Data Description
00404005|X|L|Scheduled Procedure Step Start DateTime
00404008|X|L|Scheduled Procedure Step Expiration DateTime
00404010|X|L|Scheduled Procedure Step Modification DateTime
00404011|X|L|Expected Completion DateTime
00404023|U||Referenced General Purpose Scheduled Procedure Step Transaction UID
00404025|X||Scheduled Station Name Code Sequence
00404027|X||Scheduled Station Geographic Location Code Sequence
00404028|X||Performed Station Name Code Sequence
00404030|X||Performed Station Geographic Location Code Sequence
00404034|X||Scheduled Human Performers Sequence
00404035|X||Actual Human Performers Sequence
00404036|X||Human Performer's Organization
00404037|X||Human Performer's Name
00404050|X|L|Performed Procedure Step Start DateTime
00404051|X|L|Performed Procedure Step End DateTime
00404052|X|L|Procedure Step Cancellation DateTime
0040A023|X|L|Findings Group Recording Date (Trial)
0040A024|X|L|Findings Group Recording Time (Trial)
0040A027|D||Verifying Organization
0040A030|D|L|Verification DateTime
0040A032|X/D|L|Observation DateTime
0040A033|X|L|Observation Start DateTime
0040A073|D||Verifying Observer Sequence
0040A075|D||Verifying Observer Name
0040A078|X||Author Observer Sequence
0040A07A|X||Participant Sequence
0040A07C|X||Custodial Organization Sequence
0040A082|Z|L|Participation DateTime
0040A088|Z||Verifying Observer Identification Code Sequence
0040A110|X|L|Date of Document or Verbal Transaction (Trial)
0040A112|X|L|Time of Document Creation or Verbal Transaction (Trial)
0040A120|D|L|DateTime
0040A121|D|L|Date
0040A122|D|L|Time
0040A123|D||Person Name
0040A124|U||UID
0040A13A|D|L|Referenced DateTime
0040A171|U||Observation UID
0040A172|U||Referenced Observation UID (Trial)
0040A192|X|L|Observation Date (Trial)
0040A193|X|L|Observation Time (Trial)
0040A307|X||Current Observer (Trial)
0040A352|X||Verbal Source (Trial)
0040A353|X||Address (Trial)
0040A354|X||Telephone Number (Trial)
0040A358|X||Verbal Source Identifier Code Sequence (Trial)
0040A402|U||Observation Subject UID (Trial)
0040A730|D||Content Sequence
0040DB06|X|L|Template Version
0040DB07|X|L|Template Local Version
0040DB0C|U||Template Extension Organization UID
0040DB0D|U||Template Extension Creator UID
0040E004|X|L|HL7 Document Effective Time
00420011|D||Encapsulated Document
00440004|X|L|Approval Status DateTime
0044000B|X|L|Product Expiration DateTime
00440010|X|L|Substance Administration DateTime
00440104|D|L|Assertion DateTime
00440105|X|L|Assertion Expiration DateTime
0050001B|X||Container Component ID
00500020|X||Device Description
00500021|X||Long Device Description
00620021|U||Tracking UID
00640003|U||Source Frame of Reference UID
00686226|D|L|Effective DateTime
00686270|D|L|Information Issue DateTime
006A0003|D||Annotation Group UID
006A0005|D||Annotation Group Label
006A0006|X||Annotation Group Description
00700001|D||Graphic Annotation Sequence
00700082|X|L|Presentation Creation Date
00700083|X|L|Presentation Creation Time
00700084|Z/D||Content Creator's Name
00700086|X||Content Creator's Identification Code Sequence
0070031A|U||Fiducial UID
00701101|U||Presentation Display Collection UID
00701102|U||Presentation Sequence Collection UID
0072000A|D|L|Hanging Protocol Creation DateTime
0072005E|D||Selector AE Value
0072005F|D||Selector AS Value
00720061|D|L|Selector DA Value
00720063|D|L|Selector DT Value
00720065|D||Selector OB Value
00720066|D||Selector LO Value
00720068|D||Selector LT Value
0072006A|D||Selector PN Value
0072006B|D|L|Selector TM Value
0072006C|D||Selector SH Value
0072006D|D||Selector UN Value
0072006E|D||Selector ST Value
00720070|D||Selector UT Value
00720071|D||Selector UR Value
00741234|X||Receiving AE
00741236|X||Requesting AE
00880140|U||Storage Media File-set UID
00880200|X||Icon Image Sequence (see Note 11)
00880904|X||Topic Title
00880906|X||Topic Subject
00880910|X||Topic Author
00880912|X||Topic Keywords
01000420|X|L|SOP Authorization DateTime
04000100|U||Digital Signature UID
04000105|D|L|Digital Signature DateTime
04000115|D||Certificate of Signer
04000310|X|L|Certified Timestamp
04000402|X||Referenced Digital Signature Sequence
04000403|X||Referenced SOP Instance MAC Sequence
04000404|X||MAC
04000550|X||Modified Attributes Sequence
04000551|X||Nonconforming Modified Attributes Sequence
04000552|X||Nonconforming Data Element Value
04000561|X||Original Attributes Sequence
04000562|D|L|Attribute Modification DateTime
04000563|D||Modifying System
04000564|Z||Source of Previous Values
04000565|D||Reason for the Attribute Modification
04000600|X||Instance Origin Status
20300020|X||Text String
21000040|X|L|Creation Date
21000050|X|L|Creation Time
21000070|X||Originator
21000140|D||Destination AE
22000002|X/Z||Label Text
22000005|X/Z||Barcode Value
30020121|X||Position Acquisition Template Name
30020123|X||Position Acquisition Template Description
30060002|D||Structure Set Label
30060004|X||Structure Set Name
30060006|X||Structure Set Description
30060008|Z|L|Structure Set Date
30060009|Z|L|Structure Set Time
30060024|U||Referenced Frame of Reference UID
30060026|Z||ROI Name
30060028|X||ROI Description
3006002D|X|L|ROI DateTime
3006002E|X|L|ROI Observation DateTime
30060038|X||ROI Generation Description
3006004D|X||ROI Creator Sequence
3006004E|X||ROI Interpreter Sequence
30060085|X||ROI Observation Label
30060088|X||ROI Observation Description
300600A6|Z||ROI Interpreter
300600C2|U||Related Frame of Reference UID
30080024|D|L|Treatment Control Point Date
30080025|D|L|Treatment Control Point Time
30080054|X/D|L|First Treatment Date
30080056|X/D|L|Most Recent Treatment Date
30080105|X/Z||Source Serial Number
30080162|D|L|Safe Position Exit Date
30080164|D|L|Safe Position Exit Time
30080166|D|L|Safe Position Return Date
30080168|D|L|Safe Position Return Time
30080250|X/D|L|Treatment Date
30080251|X/D|L|Treatment Time
300A0002|D||RT Plan Label
300A0003|X||RT Plan Name
300A0004|X||RT Plan Description
300A0006|X/D|L|RT Plan Date
300A0007|X/D|L|RT Plan Time
300A000B|X||Treatment Sites
300A000E|X||Prescription Description
300A0013|U||Dose Reference UID
300A0016|X||Dose Reference Description
300A0072|X||Fraction Group Description
300A0083|U||Referenced Dose Reference UID
300A00B2|X/Z||Treatment Machine Name
300A00C3|X||Beam Description
300A00DD|X||Bolus Description
300A0196|X||Fixation Device Description
300A01A6|X||Shielding Device Description
300A01B2|X||Setup Technique Description
300A0216|X||Source Manufacturer
300A022C|D|L|Source Strength Reference Date
300A022E|D|L|Source Strength Reference Time
300A02EB|X||Compensator Description
300A0608|D||Treatment Position Group Label
300A0609|U||Treatment Position Group UID
300A0611|Z||RT Accessory Holder Slot ID
300A0615|Z||RT Accessory Device Slot ID
300A0619|D||Radiation Dose Identification Label
300A0623|D||Radiation Dose In-Vivo Measurement Label
300A062A|D||RT Tolerance Set Label
300A0650|U||Patient Setup UID
300A0676|X||Equipment Frame of Reference Description
300A067C|D||Radiation Generation Mode Label
300A067D|Z||Radiation Generation Mode Description
300A0700|U||Treatment Session UID
300A0734|D||Treatment Tolerance Violation Description
300A0736|D|L|Treatment Tolerance Violation DateTime
300A073A|D|L|Recorded RT Control Point DateTime
300A0741|D|L|Interlock DateTime
300A0742|D||Interlock Description
300A0760|D|L|Override DateTime
300A0783|D||Interlock Origin Description
300A0785|U||Referenced Treatment Position Group UID
300A078E|X||Patient Treatment Preparation Procedure Parameter Description
300A0792|X||Patient Treatment Preparation Method Description
300A0794|X||Patient Setup Photo Description
300A079A|X||Displacement Reference Label
300C0113|X||Reason for Omission Description
300C0127|D|L|Beam Hold Transition DateTime
300E0004|Z|L|Review Date
300E0005|Z|L|Review Time
300E0008|X/Z||Reviewer Name
30100006|U||Conceptual Volume UID
3010000B|U||Referenced Conceptual Volume UID
3010000F|Z||Conceptual Volume Combination Description
30100013|U||Constituent Conceptual Volume UID
30100015|U||Source Conceptual Volume UID
30100017|Z||Conceptual Volume Description
3010001B|Z||Device Alternate Identifier
3010002D|D||Device Label
30100031|U||Referenced Fiducials UID
30100033|D||User Content Label
30100034|D||User Content Long Label
30100035|D||Entity Label
30100036|X||Entity Name
30100037|X||Entity Description
30100038|D||Entity Long Label
3010003B|U||RT Treatment Phase UID
30100043|Z||Manufacturer's Device Identifier
3010004C|X/D|L|Intended Phase Start Date
3010004D|X/D|L|Intended Phase End Date
30100054|D||RT Prescription Label
30100056|X/D||RT Treatment Approach Label
3010005A|Z||RT Physician Intent Narrative
3010005C|Z||Reason for Superseding
30100061|X||Prior Treatment Dose Description
3010006E|U||Dosimetric Objective UID
3010006F|U||Referenced Dosimetric Objective UID
30100077|X/D||Treatment Site
3010007A|Z||Treatment Technique Notes
3010007B|Z||Prescription Notes
3010007F|Z||Fractionation Notes
30100081|Z||Prescription Notes Sequence
30100085|X|L|Intended Fraction Start Time
40000010|X||Arbitrary
40004000|X||Text Comments
40080040|X||Results ID
40080042|X||Results ID Issuer
40080100|X|L|Interpretation Recorded Date
40080101|X|L|Interpretation Recorded Time
40080102|X||Interpretation Recorder
40080108|X|L|Interpretation Transcription Date
40080109|X|L|Interpretation Transcription Time
4008010A|X||Interpretation Transcriber
4008010B|X||Interpretation Text
4008010C|X||Interpretation Author
40080111|X||Interpretation Approver Sequence
40080112|X|L|Interpretation Approval Date
40080113|X|L|Interpretation Approval Time
40080114|X||Physician Approving Interpretation
40080115|X||Interpretation Diagnosis Description
40080118|X||Results Distribution List Sequence
40080119|X||Distribution Name
4008011A|X||Distribution Address
40080200|X||Interpretation ID
40080202|X||Interpretation ID Issuer
40080300|X||Impressions
40084000|X||Results Comments
50xxxxxx|X||Curve Data
60xx3000|X||Overlay Data
60xx4000|X||Overlay Comments
FFFAFFFA|X||Digital Signatures Sequence
FFFCFFFC|X||Data Set Trailing Padding
"""
