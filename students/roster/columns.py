"""The roster's layout (学籍名册): its sheet, its columns in order, and the words allowed in each.

The headers and the allowed words are the file format itself (the school-registration export), so they
are Chinese whatever the user's language; the template's instructions sheet explains each column.
"""

from __future__ import annotations

from dataclasses import dataclass

from schools.models import Stage
from students.models import EnrollmentStatus, Gender, GuardianRelation, Hukou

SHEET_NAME = "学籍名册"
INSTRUCTIONS_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    #: Kept as text in the template (Excel keeps only 15 significant digits of a number).
    text: bool = False
    width: int = 12
    help: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("school_code", "学校标识码", required=True, text=True, width=14,
           help="全国中小学校标识码（10位），须是本区县已建档的学校。", example="3410622004"),
    Column("stage", "学段", required=True, width=9, choices=("学前", "小学", "初中", "普通高中", "中职"),
           help="学前、小学、初中、普通高中、中职之一。", example="小学"),
    Column("entry_year", "入学年份", required=True, width=10, help="本学段入学的年份，如 2024。", example="2024"),
    Column("class_number", "班号", required=True, width=7, help="班级序号，如 3 表示 3 班。班级须已在系统中建好。",
           example="3"),
    Column("name", "姓名", required=True, width=10, help="学生姓名，最多 50 字。", example="王小明"),
    Column("id_number", "身份证号", required=True, text=True, width=21,
           help="18位居民身份证号码，末位可以是 X。系统核对校验码、出生日期和性别。请保持单元格为“文本”格式。",
           example="410622201506150021"),
    Column("student_no", "学籍号", text=True, width=22,
           help="全国学籍号，通常为 G 加身份证号。可留空。", example="G410622201506150021"),
    Column("gender", "性别", width=6, choices=("男", "女"),
           help="男或女；须与身份证号一致。留空则按身份证号填写。", example="女"),
    Column("birth_date", "出生日期", width=12,
           help="如 2015-06-15；须与身份证号一致。留空则按身份证号填写。", example="2015-06-15"),
    Column("status", "学籍状态", required=True, width=10, choices=("在校", "休学", "转出", "辍学", "毕业"),
           help="在校、休学、转出、辍学、毕业之一。", example="在校"),
    Column("boarding", "是否寄宿", width=9, choices=("是", "否"), help="是或否。", example="否"),
    Column("hukou", "户籍性质", required=True, width=9, choices=("农村", "城镇"), help="农村或城镇。", example="农村"),
    Column("township", "乡镇", width=12, help="户籍所在乡镇（街道）。", example="北阳镇"),
    Column("village", "村（社区）", width=12, help="户籍所在村或社区。", example="东村"),
    Column("phone", "联系电话", text=True, width=14, help="家庭联系电话。", example="13800001234"),
    Column("g1_name", "监护人1姓名", width=11, help="第一监护人姓名。填写了监护人的任何一项，则姓名和关系必填。",
           example="王大军"),
    Column("g1_relation", "监护人1关系", width=11, choices=("父亲", "母亲", "祖父母", "其他"),
           help="父亲、母亲、祖父母、其他之一。", example="父亲"),
    Column("g1_id_number", "监护人1身份证号", text=True, width=21, help="监护人的18位身份证号码，可留空。",
           example="410622198503150072"),
    Column("g1_phone", "监护人1电话", text=True, width=14, help="监护人电话，可留空。", example="13900001234"),
    Column("g2_name", "监护人2姓名", width=11, help="第二监护人，同上，可整组留空。", example=""),
    Column("g2_relation", "监护人2关系", width=11, choices=("父亲", "母亲", "祖父母", "其他"),
           help="父亲、母亲、祖父母、其他之一。", example=""),
    Column("g2_id_number", "监护人2身份证号", text=True, width=21, help="可留空。", example=""),
    Column("g2_phone", "监护人2电话", text=True, width=14, help="可留空。", example=""),
    Column("card_bank", "开户银行", width=14, help="资助卡（社保卡）开户银行。", example="农村信用社"),
    Column("card_account", "银行账号", text=True, width=22,
           help="资助卡（社保卡）账号，只填数字。请保持单元格为“文本”格式。", example="6221000000000001234"),
    Column("card_holder", "账户持有人", width=11, help="账户持有人姓名（学生或监护人）。", example="王大军"),
)  # fmt: skip

BY_KEY = {c.key: c for c in COLUMNS}
HEADERS = tuple(c.header for c in COLUMNS)
REQUIRED = tuple(c for c in COLUMNS if c.required)

#: The words of the file → the stored values.
STAGES = {
    "学前": Stage.PRESCHOOL,
    "幼儿园": Stage.PRESCHOOL,
    "小学": Stage.PRIMARY,
    "初中": Stage.JUNIOR,
    "普通高中": Stage.SENIOR,
    "高中": Stage.SENIOR,
    "中职": Stage.VOCATIONAL,
}
STAGE_WORDS = {Stage.PRESCHOOL: "学前", Stage.PRIMARY: "小学", Stage.JUNIOR: "初中", Stage.SENIOR: "普通高中",
               Stage.VOCATIONAL: "中职"}  # fmt: skip
STATUSES = {
    "在校": EnrollmentStatus.ATTENDING,
    "在读": EnrollmentStatus.ATTENDING,
    "休学": EnrollmentStatus.SUSPENDED,
    "转出": EnrollmentStatus.TRANSFERRED_OUT,
    "辍学": EnrollmentStatus.DROPPED_OUT,
    "毕业": EnrollmentStatus.GRADUATED,
}
STATUS_WORDS = {v: k for k, v in STATUSES.items() if k != "在读"}
GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE}
GENDER_WORDS = {v: k for k, v in GENDERS.items()}
YES_NO = {"是": True, "否": False}
HUKOU = {"农村": Hukou.RURAL, "城镇": Hukou.URBAN}
RELATIONS = {
    "父亲": GuardianRelation.FATHER,
    "母亲": GuardianRelation.MOTHER,
    "祖父母": GuardianRelation.GRANDPARENT,
    "外祖父母": GuardianRelation.GRANDPARENT,
    "其他": GuardianRelation.OTHER,
}


def normalise_header(text: str) -> str:
    """Headers as typed by people: spaces dropped, half-width brackets and a trailing * (required) allowed."""
    text = "".join(str(text).split()).replace("(", "（").replace(")", "）")
    return text.rstrip("*＊")


HEADER_KEYS = {normalise_header(c.header): c.key for c in COLUMNS}
