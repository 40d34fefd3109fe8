"""What is known about Chinese ID cards, used to read them better."""

from __future__ import annotations

# The 56 officially recognised ethnic groups as printed after 民族 (without the 族 suffix).
ETHNICITIES: tuple[str, ...] = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌",
    "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)

# The recogniser (PP-OCRv6 reads traditional and simplified) sometimes returns the traditional
# form of a character (漢, 號碼). Mainland documents print simplified forms, so every OCR'd
# text is folded back. Only unambiguous one-to-one forms are listed.
_T2S_PAIRS = (
    "漢汉 維维 爾尔 壯壮 鮮鲜 鄉乡 納纳 羅罗 溫温 錫锡 獨独 倫伦 門门 諾诺 東东 瑤瑶 畬畲 達达 "
    "張张 陳陈 劉刘 楊杨 趙赵 黃黄 吳吴 鄭郑 孫孙 馬马 許许 鄧邓 馮冯 韓韩 蕭萧 葉叶 "
    "區区 縣县 號号 碼码 樓楼 單单 園园 廣广 蘇苏 龍龙 華华 國国 長长 機机 關关 發发 簽签 "
    "廈厦 鎮镇 橋桥 灣湾 農农 業业 興兴 證证 戶户 數数 壹壹 貳贰 萬万 億亿 圓圆 資资 薪薪 額额 "
    "銀银 行行 帳账 賬账 額额 餘余 動动 轉转 帳账 職职 務务 聯联 話话 電电 貨货 幣币 間间"
)
TRADITIONAL_TO_SIMPLIFIED = str.maketrans({p[0]: p[1] for p in _T2S_PAIRS.split() if p[0] != p[1]})
