#!/usr/bin/env python3
"""Writes Tests/Fixtures/corpus.txt: the varied test corpus (one text per line, UTF-8).
Deterministic: re-running gives the same file. Texts may hold any character but "\n"."""
import os, random

rng = random.Random(20261122)
short = ["Hi", "ok", "A", "?", "42", "yes!", "No.", "cat", "Thanks!", "lol", "hmm...", "Go", "WAIT", "e=mc^2",
         "😀", "👍🏽", "🇫🇷", "👨‍👩‍👧‍👦", "🔥🔥🔥", "❤️", "x", "the", "Zürich", "é", "東京", "你好", "🙂 ok"]
sentences = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
    "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.", "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "How do I reset my password if I no longer have access to my email?",
    "What is the capital of Australia? Many people guess Sydney, but it is Canberra.",
    "The meeting has been moved to 3:45 PM on Thursday, March 14th, 2024.",
    "Please send the invoice #INV-2023-0042 to accounts@example.com by Friday.",
    "Visit https://www.example.org/docs/v2/getting-started?lang=en&ref=home#install for details.",
    "The stock rose 12.5% to $1,234.56 after the Q3 earnings call.",
    "Raspberry Pi 4 Model B has a quad-core Cortex-A72 (ARM v8) 64-bit SoC @ 1.8GHz.",
    "I can't believe it's not butter!", "She said, \"Don't go there,\" and left.",
    "It's 5 o'clock somewhere; let's grab a coffee — or maybe tea?",
    "THE END IS NEAR!!! READ ALL ABOUT IT!!!", "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS &*%",
    "Naïve café owners in São Paulo serve crème brûlée and jalapeño piñatas.",
    "Ångström, Øresund, Œuvre, Straße, Æsir, Łódź, Dvořák, İstanbul.",
    "Crème brûlée is a dessert.", "Mötley Crüe played in Köln.", "El niño comió paella en Málaga.",
    "François Mitterrand était président de la République française.",
    "Die Katze schläft auf dem Sofa, während der Hund im Garten spielt.",
    "Москва — столица России, крупнейший город страны.", "Привет, как дела?",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.", "ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΕΙΡΗΝΕΣ",
    "مرحبا بالعالم، هذه جملة باللغة العربية.", "שלום עולם, זה משפט בעברית.",
    "नमस्ते दुनिया, यह हिंदी में एक वाक्य है।", "สวัสดีครับ ยินดีต้อนรับสู่ประเทศไทย",
    "我爱北京天安门。", "今天天气很好，我们去公园散步吧。", "机器学习是人工智能的一个分支",
    "这是一个测试 with English words mixed in 中文句子里。", "東京は日本の首都です。ひらがな、カタカナ、漢字。",
    "안녕하세요, 만나서 반갑습니다.", "한국어 문장과 English words 123.",
    "def add(a, b):\treturn a + b  # simple function", "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
    "const x = arr.map((v) => v * 2).filter(Boolean); // ES6", "<div class=\"main\"><p>Hello &amp; welcome</p></div>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}", "git commit -m 'Fix off-by-one in tokenizer' && git push origin main",
    "C:\\Users\\Admin\\Documents\\report_final_v2.docx", "/usr/local/lib/python3.11/site-packages/torch/__init__.py",
    "σ(x) = 1 / (1 + e^{-x}); ∑_{i=1}^{n} x_i ≥ 0; ∀ε>0 ∃δ>0.", "½ + ¼ = ¾, 2² = 4, H₂O, x³, ℃, №5, ™, ©, ®",
    "Tab\tseparated\tvalues\there", "Zero\u200bwidth\u200bspace and\u00a0no-break\u00a0space",
    "Soft\u00adhyphen in hy\u00adphen\u00adation", "\ufeffBOM at the start", "Replacement \ufffd char \ufffd here",
    "Bell\u0007 and escape\u001b[0m codes", "Null-ish \u0001\u0002\u0003 controls", "Line\u2028separator and\u2029paragraph",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 (NFD forms)", "Precomposed: é à ö ñ (NFC forms)",
    "Ligatures: ﬁne ﬂow ﬀ", "Fullwidth: ＡＢＣ１２３！", "Emoji ZWJ: 👩‍💻 👨‍🚀 🏳️‍🌈 and skin tones 👋🏻👋🏿",
    "Mixed 😀 emoji 🎉 in 🚀 text", "Right-to-left mark \u200f and left-to-right \u200e marks",
    "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "Antidisestablishmentarianism is a long word.", "a" * 120, "ab" * 60 + " short",
    "https://en.wikipedia.org/wiki/Bidirectional_Encoder_Representations_from_Transformers",
    "user_name123@sub.domain.co.uk", "#hashtag @mention $TICKER", "1,000,000.00 vs 1.000.000,00",
    "3.14159265358979323846264338327950288419716939937510", "+1 (555) 123-4567 ext. 89",
    "2024-11-22T02:19:19Z", "v1.2.3-beta.4+build.567", "MAC 00:1B:44:11:3A:B7, IP 192.168.0.1",
    "   leading and trailing spaces   ", "multiple     internal      spaces", "...", "!!!???", "---",
    "[CLS] literal special tokens [SEP] in text [MASK]", "[UNK] [PAD] and [cls] lowercase",
]
words = ("time year people way day man thing woman life child world school state family student group "
         "country problem hand part place case week company system program question work government number "
         "night point home water room mother area money story fact month lot right study book eye job word "
         "business issue side kind head house service friend father power hour game line end member law car "
         "city community name president team minute idea kid body information back parent face others level "
         "office door health person art war history party result change morning reason research girl guy "
         "moment air teacher force education").split()
def paragraph(n, seed):
    r = random.Random(seed)
    out = []
    for i in range(n):
        w = r.choice(words)
        if i % 11 == 0: w = w.capitalize()
        if i % 13 == 12: w += ","
        if i % 17 == 16: w += "."
        out.append(w)
    return " ".join(out) + "."
longs = [paragraph(n, i) for i, n in enumerate([150, 230, 260, 300, 400, 600])]
longs.append("数据" * 200)
longs.append(" ".join(["token"] * 300))
longs.append("The history of natural language processing generally started in the 1950s. " * 12)
texts = short + sentences + longs
while len(texts) < 320:
    k = rng.randint(3, 30)
    t = " ".join(rng.choice(words) for _ in range(k))
    style = rng.randint(0, 5)
    if style == 0: t = t.upper()
    elif style == 1: t = t.capitalize() + "?"
    elif style == 2: t = t + " " + str(rng.randint(0, 10**6))
    elif style == 3: t = t + " " + rng.choice(short)
    elif style == 4: t = rng.choice(sentences[:20]) + " " + t
    texts.append(t)
for t in texts:
    assert "\n" not in t and "\r" not in t and t != ""
dst = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "corpus.txt")
with open(dst, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(texts) + "\n")
print(f"wrote {dst}: {len(texts)} texts")
