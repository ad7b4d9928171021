"""The identified list's layout (已认定学生名单): its sheet, its columns, and the words allowed in each.

Headers and words are the file format (Chinese whatever the user's language); the school and class
columns are the roster's (学校标识码, 学段, 入学年份, 班号), so a district copies them from its register.
"""

from __future__ import annotations

from dataclasses import dataclass

from students.models import Tier
from students.roster.columns import normalise_header

SHEET_NAME = "已认定学生名单"
INSTRUCTIONS_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    text: bool = False  # kept as text in the template (Excel keeps only 15 significant digits of a number)
    date: bool = False
    width: int = 12
    help: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()


TIERS = {"一般困难": Tier.GENERAL, "困难": Tier.DIFFICULT, "特别困难": Tier.SPECIAL}

COLUMNS: tuple[Column, ...] = (
    Column("school_code", "学校标识码", required=True, text=True, width=14,
           help="学生被认定时就读学校的标识码，须是本区县已建档的学校。", example="3410622004"),
    Column("stage", "学段", required=True, width=9, choices=("学前", "小学", "初中", "普通高中", "中职"),
           help="学前、小学、初中、普通高中、中职之一。", example="小学"),
    Column("entry_year", "入学年份", required=True, width=10, help="本学段入学的年份，如 2024。", example="2024"),
    Column("class_number", "班号", required=True, width=7, help="班级序号，如 3 表示 3 班。班级须已在系统中建好。",
           example="3"),
    Column("name", "姓名", required=True, width=10, help="须与学籍名册中的姓名一致。", example="王小明"),
    Column("id_number", "身份证号", required=True, text=True, width=21,
           help="18位居民身份证号码，末位可以是 X；学生须已在学籍名册中。请保持单元格为“文本”格式。",
           example="410622201506150021"),
    Column("tier", "认定档次", required=True, width=11, choices=tuple(TIERS),
           help="一般困难、困难、特别困难之一。", example="困难"),
    Column("categories", "困难类别", width=20,
           help="可留空；多个类别用顿号“、”或逗号分隔，填写系统中的类别名称或代码（如 低保、孤儿）。", example="低保"),
    Column("family_situation", "家庭经济情况", width=24, help="可留空。", example="父亲因病丧失劳动能力"),
    Column("nominated_on", "申请日期", date=True, width=12, help="可留空；如 2025-09-15。", example="2025-09-15"),
    Column("class_evaluated_on", "班级评议日期", date=True, width=12, help="可留空。", example="2025-09-22"),
    Column("school_reviewed_on", "学校审核日期", date=True, width=12, help="可留空。", example="2025-10-08"),
    Column("identified_on", "认定日期", required=True, date=True, width=12,
           help="区县复查通过、认定生效的日期。各日期须按申请、评议、审核、认定的先后顺序。", example="2025-10-20"),
)  # fmt: skip

HEADERS = tuple(c.header for c in COLUMNS)
REQUIRED = tuple(c for c in COLUMNS if c.required)
HEADER_KEYS = {normalise_header(c.header): c.key for c in COLUMNS}
DATE_COLUMNS = tuple(c for c in COLUMNS if c.date)
