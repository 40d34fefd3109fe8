"""Synthetic (made-up) identities for ID card samples.

Everything here is invented from small tables and a seeded ``random.Random``: names are random
surname + given-name characters, addresses are real district names with invented streets and
numbers, and ID numbers are built from those districts' real administrative codes so that the
region prefix, birth date, sex digit and GB 11643 check character are all consistent. No real
person's data is used.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from loandocs.extractor.idnumber import CHECK_CHARS, age_on, check_char
from loandocs.extractor.vocab import ETHNICITIES

# The date samples are judged against (application date in checks); also the latest issue date,
# so that no sample card is issued in the future.
REFERENCE_DATE = dt.date(2026, 11, 29)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐")

# Common given-name characters (all in GB 2312, so every bundled font has them).
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红飞鹏辉建国志文斌宇浩凯健俊帆帅旭宁"
    "龙林欣悦琳雪晨婷倩颖佳嘉怡思梦雨子涵轩睿博泽宏鑫昊然晗萱可馨瑶琪璐欢丹燕莉兰凤慧巧美淑惠"
    "珠翠雅芝荣爱香月瑞凡琼勤珍贞叶晶妍茜秋珊莎锦青婉娴瑾露婵雁蓓仪荷蓉君琴蕊薇菁岚苑婕韵艺咏"
    "卿聪澜纯毓昭冰爽茗羽希滢筠柔竹凝晓霄枫芸菲寒伊亚宜舒影阳妮宝初程恒鸿桦剑纪宽灵晴容烁堂"
    "威雯阅彦忠宗曼紫逸贤蝶海波山松柏春夏冬东南北德仁义礼智信永长振兴福禄寿喜庆元成功达"
)

# (province, city, district, real 6-digit administrative code). City is "" where the province
# level is itself a municipality (北京市海淀区), so the printed address has no repeated city.
REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("北京市", "", "东城区", "110101"),
    ("北京市", "", "朝阳区", "110105"),
    ("北京市", "", "海淀区", "110108"),
    ("天津市", "", "南开区", "120104"),
    ("上海市", "", "徐汇区", "310104"),
    ("上海市", "", "浦东新区", "310115"),
    ("重庆市", "", "渝中区", "500103"),
    ("河北省", "石家庄市", "长安区", "130102"),
    ("山西省", "太原市", "小店区", "140105"),
    ("内蒙古自治区", "呼和浩特市", "新城区", "150102"),
    ("辽宁省", "沈阳市", "和平区", "210102"),
    ("辽宁省", "大连市", "中山区", "210202"),
    ("吉林省", "长春市", "朝阳区", "220104"),
    ("黑龙江省", "哈尔滨市", "南岗区", "230103"),
    ("江苏省", "南京市", "玄武区", "320102"),
    ("江苏省", "苏州市", "姑苏区", "320508"),
    ("浙江省", "杭州市", "西湖区", "330106"),
    ("浙江省", "宁波市", "鄞州区", "330212"),
    ("安徽省", "合肥市", "蜀山区", "340104"),
    ("福建省", "福州市", "鼓楼区", "350102"),
    ("福建省", "厦门市", "思明区", "350203"),
    ("江西省", "南昌市", "东湖区", "360102"),
    ("山东省", "济南市", "历下区", "370102"),
    ("山东省", "青岛市", "市南区", "370202"),
    ("河南省", "郑州市", "金水区", "410105"),
    ("湖北省", "武汉市", "武昌区", "420106"),
    ("湖南省", "长沙市", "岳麓区", "430104"),
    ("广东省", "广州市", "天河区", "440106"),
    ("广东省", "广州市", "越秀区", "440104"),
    ("广东省", "深圳市", "南山区", "440305"),
    ("广西壮族自治区", "南宁市", "青秀区", "450103"),
    ("海南省", "海口市", "美兰区", "460108"),
    ("四川省", "成都市", "武侯区", "510107"),
    ("贵州省", "贵阳市", "南明区", "520102"),
    ("云南省", "昆明市", "五华区", "530102"),
    ("陕西省", "西安市", "雁塔区", "610113"),
    ("甘肃省", "兰州市", "城关区", "620102"),
    ("宁夏回族自治区", "银川市", "兴庆区", "640104"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102"),
)

ROADS = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "光明路", "学府路",
    "长江路", "黄河路", "东风路", "青年路", "胜利路", "朝阳路", "幸福路", "友谊路", "工农路",
    "花园路", "滨江路", "复兴路", "团结路", "民主路", "北京路", "南京路", "东大街", "西大街",
    "南大街", "北大街", "体育路", "公园路", "劳动路", "育才路", "迎宾大道", "世纪大道",
)
ESTATES = ("阳光", "金色", "翠苑", "锦绣", "和谐", "碧水", "丽景", "华庭", "怡和", "紫荆",
           "书香", "春晖", "康乐", "绿地", "东方")
ESTATE_KINDS = ("小区", "花园", "家园", "新村", "公寓")


@dataclass(frozen=True)
class Identity:
    """One synthetic card holder plus the data printed on the back of the card."""

    name: str
    sex: str  # 男 / 女
    ethnicity: str  # without the 族 suffix, as printed
    birth_date: dt.date
    address: str  # full address, no line breaks
    region_code: str
    id_number: str
    issuing_authority: str
    valid_from: dt.date
    valid_until: dt.date | None  # None = 长期 (long term)

    def front_fields(self) -> dict[str, str]:
        return {
            "name": self.name,
            "sex": self.sex,
            "ethnicity": self.ethnicity,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
        }

    def back_fields(self) -> dict[str, str]:
        return {
            "issuing_authority": self.issuing_authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else "long_term",
        }


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 Feb in a non-leap year
        return d.replace(year=d.year + years, day=28)


def validity_years(age_at_issue: int) -> int | None:
    """Validity period by age at issue (居民身份证法 art. 5); None = 长期."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def random_name(rng: random.Random) -> str:
    surname = rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.06 else rng.choice(SURNAMES)
    # Keep names 2-4 Han characters: a double surname still gets 1-2 given characters.
    n_given = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(n_given))


def random_ethnicity(rng: random.Random) -> str:
    return "汉" if rng.random() < 0.75 else rng.choice(ETHNICITIES[1:])


def random_address(rng: random.Random, region: tuple[str, str, str, str],
                   min_len: int = 13, max_len: int = 30) -> str:
    """Street-level address inside ``region``; between min_len and max_len characters.

    The length bounds keep the printed address at 2-3 lines of ~11 characters, as on real cards.
    """
    province, city, district, _ = region
    head = province + city + district
    for _ in range(50):
        road = rng.choice(ROADS)
        number = f"{rng.randint(1, 999)}号"
        style = rng.random()
        if style < 0.30:
            tail = f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
        elif style < 0.55:
            tail = f"院{rng.randint(1, 20)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}号"
        elif style < 0.80:
            estate = rng.choice(ESTATES) + rng.choice(ESTATE_KINDS)
            tail = f"{estate}{rng.randint(1, 40)}幢{rng.randint(101, 2604)}室"
        else:
            tail = ""
        address = head + road + number + tail
        if min_len <= len(address) <= max_len:
            return address
        if len(address) < min_len:
            continue
        if min_len <= len(head + road + number) <= max_len:
            return head + road + number
    return (head + rng.choice(ROADS) + "1号")[:max_len]


def issuing_authority(region: tuple[str, str, str, str]) -> str:
    """``北京市公安局海淀分局`` / ``广州市公安局天河分局`` from the region."""
    province, city, district, _ = region
    city = city or province
    short = district
    for suffix in ("新区", "区"):
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            short = short[: -len(suffix)]
            break
    return f"{city}公安局{short}分局"


def make_id_number(region_code: str, birth: dt.date, sex: str, rng: random.Random) -> str:
    seq = rng.randint(0, 99)
    sex_digit = rng.choice("13579" if sex == "男" else "02468")
    first17 = f"{region_code}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + check_char(first17)


def corrupt_check_char(number: str, rng: random.Random) -> str:
    """The same number with a wrong check character (for the checksum_invalid sample)."""
    wrong = rng.choice([c for c in CHECK_CHARS if c != number[17]])
    return number[:17] + wrong


def random_validity(rng: random.Random, birth: dt.date, kind: str = "valid",
                    ref: dt.date = REFERENCE_DATE) -> tuple[dt.date, dt.date | None]:
    """(valid_from, valid_until) consistent with the age-at-issue rule.

    kind: ``valid`` (still valid a year after ``ref``), ``expired`` (ended before ``ref``),
    ``long_term`` (长期: issued at 46 or older).
    """
    latest = ref - dt.timedelta(days=30)
    for _ in range(500):
        if kind == "long_term":
            start = max(add_years(birth, 46), add_years(ref, -20))
            if start > latest:
                raise ValueError("holder too young for a long-term card")
            issued = random_date(rng, start, latest)
        elif kind == "expired":
            issued = random_date(rng, max(birth, add_years(ref, -25)), add_years(ref, -5))
        else:
            issued = random_date(rng, max(birth, add_years(ref, -20)), latest)
        years = validity_years(age_on(birth, issued))
        until = add_years(issued, years) if years else None
        if kind == "long_term" and until is None:
            return issued, None
        if kind == "expired" and until is not None and until < ref - dt.timedelta(days=30):
            return issued, until
        if kind == "valid" and (until is None or until > add_years(ref, 1)):
            return issued, until
    raise ValueError(f"no {kind} validity found for birth date {birth}")


def random_identity(rng: random.Random, *, birth_years: tuple[int, int] = (1955, 2007),
                    validity: str = "valid", bad_checksum: bool = False) -> Identity:
    region = rng.choice(REGIONS)
    sex = rng.choice("男女")
    birth = random_date(rng, dt.date(birth_years[0], 1, 1), dt.date(birth_years[1], 12, 31))
    number = make_id_number(region[3], birth, sex, rng)
    if bad_checksum:
        number = corrupt_check_char(number, rng)
    valid_from, valid_until = random_validity(rng, birth, validity)
    return Identity(
        name=random_name(rng),
        sex=sex,
        ethnicity=random_ethnicity(rng),
        birth_date=birth,
        address=random_address(rng, region),
        region_code=region[3],
        id_number=number,
        issuing_authority=issuing_authority(region),
        valid_from=valid_from,
        valid_until=valid_until,
    )
