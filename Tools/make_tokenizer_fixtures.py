#!/usr/bin/env python3
"""Writes the tokenizer conformance fixtures under Tests/Fixtures/tokenizer and the tiny Chinese
test model under Tests/Fixtures/tiny-cjk, from Hugging Face transformers 5 (whose BertTokenizer is
the Rust `tokenizers` pipeline: BertNormalizer + BertPreTokenizer + WordPiece + [CLS]/[SEP]).
Run by hand, not in CI (needs torch, transformers, tokenizers):

    python3 Tools/make_tokenizer_fixtures.py [UNCASED_VOCAB]

UNCASED_VOCAB is the real uncased BERT / all-MiniLM-L6-v2 vocab.txt (30522 tokens); without it the
copy already at Tests/Fixtures/tokenizer/vocab-uncased.txt is used. Deterministic: fixed seeds, so a
re-run gives the same files.

Outputs (Tests/Fixtures/tokenizer/):
  corpus.txt          one text per line, UTF-8, "\\n" line ends, no "\\r" and no "\\n" inside a text.
                      Texts DO hold U+000B, U+000C, U+001C..U+001E, U+0085, U+2028, U+2029 (which
                      Python's str.splitlines and Foundation's .newlines split on): split on "\\n" only.
                      No line is empty; some are only whitespace or only control / format characters.
  vocab-uncased.txt   copy of the real uncased vocab                 (do_lower_case=True)
  vocab-cased.txt     a synthetic cased vocab                        (do_lower_case=False)
  vocab-cjk.txt       a synthetic CJK vocab (hanzi, kana, Hangul)    (do_lower_case=True)
  ids-uncased.jsonl, ids-cased.jsonl, ids-cjk.jsonl
                      {"ids": [...]} per corpus line: tokenizer(text, truncation=True,
                      max_length=512)["input_ids"], [CLS] ... [SEP] included.
  All three vocabs have [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, [unused0..98] = 1..99.
  The synthetic vocabs deliberately hold a few canonically equivalent but distinct tokens
  ("café" NFC and NFD, "Å" U+00C5 and U+212B, Hangul syllables and their conjoining-jamo spelling):
  the tokenizer looks tokens up by exact code points, so a Swift String-keyed dictionary (which
  compares by canonical equivalence) gets these wrong.

Outputs (Tests/Fixtures/tiny-cjk/): a random-weight BertModel (seeded) over vocab-cjk.txt, saved by
transformers with model.safetensors renamed to model.safetensors.tiny, its tokenizer_config.json,
texts.txt (Chinese / mixed corpus lines), ids.jsonl (max_length 128) and hidden_states.f32
([texts][layers+1][tokens][hidden] little-endian float32), as Tools/make_golden.py does for tiny-bert.

API note: in transformers 5, BertTokenizer.__init__ takes `vocab` (a dict or a path), not
`vocab_file`; BertTokenizer(vocab_file=...) silently ignores the file and builds a 5-token vocab.
So the tokenizers here are BertTokenizer(vocab=load_vocab(path), do_lower_case=...), cross-checked
against BertTokenizer.from_pretrained(dir) and tokenizers.BertWordPieceTokenizer on every line.
"""
import json, os, random, shutil, sys, tempfile, unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "Tests", "Fixtures"))
OUT = os.path.join(FIXTURES, "tokenizer")
TINY = os.path.join(FIXTURES, "tiny-cjk")
MAX_LEN = 512
TINY_MAX_LEN = 128

NFC = lambda s: unicodedata.normalize("NFC", s)
NFD = lambda s: unicodedata.normalize("NFD", s)

# ----------------------------------------------------------------------------------------------
# Source material
# ----------------------------------------------------------------------------------------------

WORDS = ("time year people way day man thing woman life child world school state family student group "
         "country problem hand part place case week company system program question work government number "
         "night point home water room mother area money story fact month lot right study book eye job word "
         "business issue side kind head house service friend father power hour game line end member law car "
         "city community name president team minute idea kid body information back parent face others level "
         "office door health person art war history party result change morning reason research girl guy "
         "moment air teacher force education the of and to in is was for on with as by at from that this "
         "it be are have has had not but or an which their they we you he she his her its our can will would "
         "should could may might must about into over after before under between through during without "
         "again very more most some any each every other such only own same so than too just also new old "
         "good great small large long little high low big young important public bad different early late "
         "run walk talk think know see look want give use find tell ask seem feel try leave call keep let "
         "begin help show hear play move live believe bring happen write provide sit stand lose pay meet "
         "include continue set learn lead understand watch follow stop create speak read allow add spend "
         "grow open win offer remember love consider appear buy wait serve die send expect build stay fall "
         "cut reach kill remain suggest raise pass sell require report decide pull network model data "
         "embedding tokenizer sentence vector inference quantization kernel matrix memory device battery "
         "unbelievable unhappiness internationalization misunderstanding counterproductive").split()

EN_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "A man is eating food.", "A woman is slicing an onion.", "Two dogs are playing in the snow.",
    "How do I reset my password if I no longer have access to my email?",
    "What is the capital of Australia? Many people guess Sydney, but it is Canberra.",
    "The meeting has been moved to 3:45 PM on Thursday, March 14th, 2024.",
    "I can't believe it's not butter!", "She said, \"Don't go there,\" and left.",
    "It's 5 o'clock somewhere; let's grab a coffee — or maybe tea?",
    "Rock'n'roll isn't dead, y'all; it's just resting.",
    "State-of-the-art models aren't always the best choice for on-device inference.",
    "The U.S.A. and the U.K. signed the treaty, i.e. the agreement, e.g. last year.",
    "Dr. Smith's cat (named Mr. Whiskers) won 1st prize at the 2019 show.",
    "Sentence embeddings map text to dense vectors for semantic search.",
    "Tokenization splits text into word pieces such as un ##believ ##able.",
    "Edge devices have little memory, so int8 quantization matters.",
    "He read the paper twice, then wrote three pages of notes.",
    "Our flight was delayed by 2 hours and 17 minutes.",
    "Please don't hesitate to contact us at any time.",
    "The results were inconclusive; further research is needed.",
    "Wait... what?! You did WHAT?",
    "Mr. O'Neil's self-driving car—a prototype—crashed into a lamp-post.",
    "Hyphenated-words, under_scored_words and CamelCaseWords all behave differently.",
    "iPhone, eBay, McDonald's, YouTube and LaTeX have odd capitalisation.",
    "“Smart quotes” and ‘single smart quotes’ are common in edited text.",
    "The café's menu lists a naïve crème brûlée.",
    "Antidisestablishmentarianism and floccinaucinihilipilification are long words.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a lung disease.",
]

ACCENTED_WORDS = [
    "café", "naïve", "crème", "brûlée", "jalapeño", "piñata", "São", "Paulo", "Zürich", "München", "Köln",
    "Düsseldorf", "Ångström", "Øresund", "Œuvre", "Æsir", "Łódź", "Dvořák", "Šťastný", "Žižkov", "Kraków",
    "Gdańsk", "Wrocław", "Besançon", "façade", "garçon", "élève", "déjà", "vu", "résumé", "fiancée",
    "Málaga", "Bogotá", "Perú", "México", "Córdoba", "acción", "corazón", "niño", "año", "mañana",
    "coração", "informação", "irmã", "pão", "Reykjavík", "Þingvellir", "Eyjafjallajökull", "Ísland",
    "Tiếng", "Việt", "Nguyễn", "Hà", "Nội", "phở", "Đà", "Nẵng", "người", "được", "những",
    "București", "Timișoara", "Constanța", "țară", "Lietuvių", "ąžuolas", "Šiauliai",
    "Österreich", "Göteborg", "Malmö", "Ærø", "Hämeenlinna", "Jyväskylä", "Århus", "Tromsø",
    "İstanbul", "Ankara", "ığdır", "Şişli", "Gümüşhane", "ÇAĞLAYAN", "Straße", "Fußball", "Maß",
    "STRASSE", "GROẞ", "ẞ", "ß", "Ŀl", "l·l", "Ĳssel", "ĳs", "ŉ", "ǅemal", "ǈubljana", "ǋ",
    "Ḁḁ", "ẞmall", "Ṩṩ", "ǖǘǚǜ", "Ǻǻ", "ḍḥṃṇṛṣṭ", "Ā", "ē", "ī", "ō", "ū", "Mā", "kō", "Tōkyō",
]

ACCENTED_SENTENCES = [
    "Naïve café owners in São Paulo serve crème brûlée and jalapeño piñatas.",
    "Ångström, Øresund, Œuvre, Straße, Æsir, Łódź, Dvořák, İstanbul.",
    "François Mitterrand était président de la République française.",
    "Die Katze schläft auf dem Sofa, während der Hund im Garten spielt.",
    "El niño comió paella en Málaga el año pasado.",
    "A informação foi útil para a organização da reunião.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Zażółć gęślą jaźń.", "Árvíztűrő tükörfúrógép.",
    "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ ầ ấ ẩ ẫ ậ.",
    "Nguyễn Phú Trọng đã phát biểu tại Hà Nội.",
    "Şu çılgın Türk, İstanbul'da ığdırlı bir çocukla konuştu.",
    "Høj vækst i Ærø og Tromsø, siger Søren Kierkegaard.",
    "Þetta er íslenska: Eyjafjallajökull gaus árið 2010.",
    "Ça va? Très bien, merci. À bientôt!",
    "Größe, Maße und Füße: GRÖẞE, MASSE, FÜSSE.",
    "Māori: Aotearoa, whānau, kōrero, tū.",
    "Lietuvių kalba: ąčęėįšųūž.", "Latviešu valoda: āčēģīķļņšūž.",
    "Română: ș ț (virgulă) vs ş ţ (sedilă).",
]

ZH_SENTENCES = [
    "我爱北京天安门。", "今天天气很好，我们去公园散步吧。", "机器学习是人工智能的一个分支。",
    "这是一个测试 with English words mixed in 中文句子里。", "北京是中华人民共和国的首都。",
    "他每天早上六点起床，然后去跑步。", "这本书我已经看了三遍了。", "请问去火车站怎么走？",
    "我们明天下午三点在会议室开会。", "中国有五千多年的历史。", "长江是中国最长的河流。",
    "学而时习之，不亦说乎？", "天下兴亡，匹夫有责。", "欲穷千里目，更上一层楼。",
    "春眠不觉晓，处处闻啼鸟。", "床前明月光，疑是地上霜。", "人工智能正在改变我们的生活方式。",
    "深度学习模型需要大量的数据和计算资源。", "这个问题很难回答，我需要想一想。",
    "你吃饭了吗？还没有，我们一起去吧！", "上海的房价越来越高了。", "我的手机没电了，能借我充电器吗？",
    "繁體中文：臺灣、香港、澳門使用繁體字。", "龍的傳人，飛躍高山與大海。", "電腦軟體開發工程師",
    "简体中文和繁體中文的区别在于字形。", "「你好」他说道，『再见』她回答。", "价格：￥1,299.00（含税）",
    "第一章　总则", "〇一二三四五六七八九十百千万亿", "《红楼梦》是中国古典四大名著之一。",
    "我用Python写了一个machine learning模型。", "iPhone 15 Pro的价格是7999元。",
    "这个bug在v2.3.1版本里修复了。", "明天的meeting改到10:30了，请准时参加。",
    "GPU显存不够，batch size只能设成8。", "他在Google工作，她在微软（Microsoft）。",
    "BERT模型的中文版本叫做Chinese-BERT-wwm。", "我今天买了3kg苹果和2L牛奶。", "COVID-19疫情期间大家都在家办公。",
]

JA_SENTENCES = [
    "東京は日本の首都です。", "私は学生です。", "今日はいい天気ですね。", "ありがとうございます。",
    "コンピューターを使ってプログラムを書きます。", "日本語の文章にはひらがな、カタカナ、漢字が混ざっています。",
    "すみません、駅はどこですか？", "富士山は日本で一番高い山です。", "ラーメンとすしが大好きです。",
    "明日、京都へ行きます。", "ｶﾀｶﾅ ﾊﾝｶｸ ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟﾌﾟ", "ガギグゲゴ ザジズゼゾ ぱぴぷぺぽ",
    "か\u3099き\u3099く\u3099け\u3099こ\u3099 は\u309aひ\u309a", "「こんにちは」と彼は言った。",
    "それでいいですよ〜！", "ヴァイオリンとヴィオラ", "令和元年 ㋿ ㍻ ㍼ ㌔ ㌢", "キャッシュ・フローの計算",
    "東京スカイツリー® は634mです", "ＪＲ東日本の新幹線", "ゐゑヰヱ ゔ ゟ ヿ", "ポケモンGOをプレイしています。",
    "吾輩は猫である。名前はまだ無い。", "ＡＩ（人工知能）の研究が進んでいる。",
]

KO_SENTENCES = [
    "안녕하세요, 만나서 반갑습니다.", "대한민국의 수도는 서울입니다.", "저는 학생입니다.",
    "오늘 날씨가 정말 좋네요!", "한국어 문장과 English words 123.", "감사합니다.", "사랑해요 ❤️",
    "김치찌개를 먹고 싶어요.", "컴퓨터 프로그래밍은 재미있다.", "훈민정음은 세종대왕이 만들었다.",
    "똑똑한 닭이 읽고 앉아 있다.", "없다, 읽다, 앉다, 닮다, 핥다, 읊다", "ㅋㅋㅋㅋ ㅎㅎ ㅠㅠ ㅇㅇ",
    "ᄀᆞᆯ ᄒᆞᆫ ᅀᅵ ᅙ ᆪ", "ﾡﾢﾣ ￂￃ", "서울특별시 강남구 테헤란로 123",
    "BTS의 새 앨범이 나왔어요!", "삼성전자와 LG전자", "𠮷 한자와 한글", "韓國語 한국어",
]

AR_SENTENCES = [
    "مرحبا بالعالم، هذه جملة باللغة العربية.", "اللغة العربية جميلة", "القاهرة هي عاصمة مصر.",
    "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ", "أنا أحب القراءة؟ نعم!", "الرقم ١٢٣٤٥٦٧٨٩٠ والرقم 1234567890",
    "ﷺ ﷲ ﻻ ﻷ", "مـــرحـــبا بـــكم", "سلام دنیا، این یک جمله فارسی است.", "می‌خواهم به خانه بروم.",
    "یہ اردو ہے۔", "\u0600\u0661\u0662 رقم", "٪ ٫ ٬ ؛ ؟ ، ۔",
]

HE_SENTENCES = [
    "שלום עולם, זה משפט בעברית.", "בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ",
    "ירושלים היא עיר הבירה.", "אני אוהב ללמוד Python 3.", "ש״ח, צה״ל, דו״ח", "ײַ ױ װ",
    "\u200fעברית\u200f with English", "מַה נִּשְׁתַּנָּה",
]

HI_SENTENCES = [
    "नमस्ते दुनिया, यह हिंदी में एक वाक्य है।", "भारत की राजधानी नई दिल्ली है।",
    "मुझे किताबें पढ़ना पसंद है।", "क्षत्रिय, ज्ञान, श्री, द्व, ह्म", "संस्कृत भाषा बहुत पुरानी है॥",
    "०१२३४५६७८९ और 0123456789", "ॐ नमः शिवाय", "महाराष्ट्र, गुजरात, कर्नाटक",
    "ड़ ढ़ क़ ख़ ग़ ज़ फ़ य़", "आमि বাংলায় গান গাই।", "தமிழ் ஒரு பழமையான மொழி.",
    "తెలుగు భాష", "ಕನ್ನಡ", "മലയാളം", "ਪੰਜਾਬੀ", "ગુજરાતી", "ଓଡ଼ିଆ", "සිංහල",
]

TH_SENTENCES = [
    "สวัสดีครับ ยินดีต้อนรับสู่ประเทศไทย", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "กรุงเทพมหานคร",
    "๑๒๓๔๕ ฯลฯ ๆ", "น้ำ ไม้ ก็ ที่ นี่", "ສະບາຍດີ ພາສາລາວ", "សួស្តី ភាសាខ្មែរ", "မြန်မာဘာသာ",
    "ཀུན་ལ་བཀྲ་ཤིས་བདེ་ལེགས།",
]

RU_SENTENCES = [
    "Москва — столица России, крупнейший город страны.", "Привет, как дела?",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.", "ЁЛКА, ёлка, Ёжик и ещё",
    "Йогурт и йод, ЙОГА", "Українська мова: ґ, є, і, ї, Ґ, Є, І, Ї.", "Беларуская: ў Ў",
    "Српски: ђ, ћ, џ, љ, њ", "Български език", "Қазақ тілі: ә, ғ, қ, ң, ө, ұ, ү, һ, і",
    "ВСЕ ЗАГЛАВНЫЕ БУКВЫ И ЦИФРЫ 2024", "Математика: ПРИВЕТ мир, привет МИР",
    "Ѣ ѣ Ѳ ѳ Ѵ ѵ і (дореформенная орфография)",
]

EL_SENTENCES = [
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.", "ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΕΙΡΗΝΕΣ", "ΣΟΦΟΣ ΑΝΘΡΩΠΟΣ ΛΟΓΟΣ",
    "σοφός ἄνθρωπος λόγος", "Ἀριστοτέλης, Ὅμηρος, ᾠδή, ᾼ ᾳ ῼ", "ΑΣ ΣΑΣ ΣΟΥ Σ. ΣΣ Σ-Σ",
    "ΌΛΟΙ ΟΙ ΆΝΘΡΩΠΟΙ ΓΕΝΝΙΟΎΝΤΑΙ ΕΛΕΎΘΕΡΟΙ", "Ελληνικά: ς σ Σ ϲ Ϲ", "ΐ ΰ Ϊ Ϋ ϊ ϋ",
    "Τι κάνεις\u037e Καλά\u0387 ευχαριστώ", "ϐ ϑ ϕ ϖ ϰ ϱ ϵ", "ΜΆΘΗΜΑ ΣΤΟ ΣΠΊΤΙ ΤΟΥ ΟΔΥΣΣΈΑ",
]

EMOJI = ["😀", "😃", "😂", "🤣", "🙂", "🙃", "😉", "😍", "🥰", "🤩", "😘", "😎", "🤔", "😭", "😡", "🥺",
         "👍", "👎", "👏", "🙏", "💪", "🔥", "✨", "🎉", "🚀", "💯", "✅", "❌", "⭐", "🌍", "🍕", "🍺",
         "☕", "⌚", "⏰", "♻️", "❤️", "❤", "♥", "☺︎", "☺️", "✌️", "⚡", "🫠", "🫶", "🪿", "🫎", "🧋",
         "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👋🏻", "👋🏿", "🧑🏽‍💻", "👩‍💻", "👨‍🚀", "👨‍👩‍👧‍👦",
         "👩‍❤️‍👨", "🏳️‍🌈", "🏳️‍⚧️", "🧑🏽‍🤝‍🧑🏿", "👁️‍🗨️", "🐻‍❄️", "❤️‍🔥", "🇺🇸", "🇫🇷", "🇯🇵", "🇩🇪",
         "🇨🇳", "🇰🇷", "🇧🇷", "🇮🇳", "🇪🇺", "🇺🇳", "🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿", "1️⃣", "#️⃣", "*️⃣",
         "©️", "™️", "🅰️", "🆗", "🀄", "🃏", "🂡"]

CODE = [
    "def add(a, b):\treturn a + b  # simple function",
    "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
    "const x = arr.map((v) => v * 2).filter(Boolean); // ES6",
    "<div class=\"main\"><p>Hello &amp; welcome</p></div>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "git commit -m 'Fix off-by-one in tokenizer' && git push origin main",
    "C:\\Users\\Admin\\Documents\\report_final_v2.docx",
    "/usr/local/lib/python3.11/site-packages/torch/__init__.py",
    "let vocab: [String: Int32] = try loadVocab(at: url) // Swift",
    "fn main() { println!(\"{:?}\", vec![1u8, 2, 3]); }",
    "#include <stdio.h>\nint main(void) { return 0; }".replace("\n", " "),
    "if x != nil && !y.isEmpty { z ||= 0x7F & ~mask >> 3 }",
    "regex = r'^(?P<user>[\\w.+-]+)@(?P<host>[\\w-]+\\.)+[a-z]{2,}$'",
    "\\begin{equation} E = mc^2 \\end{equation} % LaTeX",
    "## Heading\t**bold** _italic_ `code` [link](http://x.y)",
    "x = np.einsum('bij,bjk->bik', A, B)  # batched matmul",
    "sudo apt-get install -y build-essential libssl-dev && echo $?",
    "kubectl get pods -n kube-system -o jsonpath='{.items[*].metadata.name}'",
    "print(f\"{value:>10.3f} | {name!r:^20}\")",
    "a<<=2; b>>>=1; c**=3; d//=4; e%=5; f^=g; h|=i; j&=k;",
    "@property\\n def __repr__(self) -> str: ...",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root attr='v'/>",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "UPDATE `tbl` SET `col`='O''Brien' WHERE id=42; -- comment",
    "console.log(`Template ${literal} with ${nested.value ?? 'default'}`);",
    "std::vector<std::pair<int, std::string>> v{{1, \"a\"}, {2, \"b\"}};",
    "func tokenize(_ text: String) -> [Int32] { text.unicodeScalars.map { _ in 0 } }",
    "matrix[i][j] = (matrix[i-1][j] + matrix[i][j-1]) % 1_000_000_007",
    "0xDEADBEEF 0b1010_1010 0o777 1e-9 3.14f 42u64 -0.0 NaN Inf",
]

SPECIAL_LINES = [
    "[CLS] literal special tokens [SEP] in text [MASK]", "[UNK] [PAD] and [cls] lowercase",
    "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[CLS][SEP]", "[CLS] [SEP] [PAD] [UNK] [MASK]",
    "hello[CLS]world", "x[SEP]y[SEP]z", "The [MASK] sat on the mat.", "[MASK]ed [MASK]ing un[MASK]",
    "[[CLS]]", "[[[SEP]]]", "[ CLS ]", "[Cls] [cLS] [cls] [sep] [mask] [unk] [pad]", "[CLS ] [ SEP]",
    "[CL S] [C LS] [CLS-] [CLSX] [XCLS]", "[CLS]. [SEP]! [MASK]? [UNK], [PAD];",
    "中[SEP]文[CLS]字", "😀[MASK]😀", "［CLS］ ［SEP］ (fullwidth brackets)", "[ＣＬＳ] [ＳＥＰ]",
    "[CL\u0001S] [SE\u200bP] [MA\u00adSK]", "\u200b[CLS]\u200b [SEP]\u00a0[MASK]\u3000[UNK]\t[PAD]",
    "[unused0] [unused1] [unused98] [unused99] [unused993]", "<s> </s> <pad> <unk> <mask> <|endoftext|>",
    "[CLS][CLS][CLS][CLS][CLS][CLS][CLS][CLS]", "Question: what is [MASK]? Answer: [SEP] [PAD] [PAD] [PAD]",
    "ＡＢＣ[MASK]ＤＥＦ", "Zürich[SEP]Zu\u0308rich", "[MASK]\u0301 [SEP]\u0308", "[CLS]\u3099",
    "##ing ##s ## # #### [CLS]##", "[SEP]ing [CLS]s", "[UNK][UNK][UNK] unknown",
    "İ[CLS]İ ß[SEP]ß", "\ufeff[CLS]", "[CLS]\ufeff", "[\u0301CLS] [CLS\u0301]",
]

COMMON_HANZI = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去"
    "行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知使点意"
    "长现已但新全因最两力高外间理本样文动开手美社百相并东正实向明门结体很解位机问等给果何北被关党表重物民提变"
    "色通口比员思路她或部更接太常论命候计数回话安少区身况指打先水件战政期活合利七各联记化第情强系做八且南风入"
    "品再特感气九城直式界度信反象白步至资取便设教组争该求产带议山认世六程业今治达性收备代元群形林西精容完建速"
    "约任据走处装队才权史运线光流总济决题原般老每增往极亲连料科马清五切制听易空满单王效受志火段研究类院商海华"
    "传写土维报真角较持管布住根采造共复石交型集义近热米照领标叫音须快整深张质规统众验准图转格术片参积需历示四"
    "识油病技引存声阻京首都公园散步爱北天安吃饭没还借充电器会议室早起床跑本遍请火车站怎么走千里目层楼春眠觉晓"
    "处闻啼鸟床前月霜改活方式模型需要量据算源问题难回答想吗吧呢啊哦嗯喂哈呀啦嘛哪谁什为啥咱您俺俩"
    "爸妈哥姐弟妹儿女孩朋友老师同学医生病院药店超市银行网站电脑手机视频音乐电影游戏书报纸杂志笔纸桌椅门窗房屋"
    "猫狗鸟鱼马牛羊猪鸡鸭虎龙蛇兔鼠猴花草树木叶果苹香蕉西瓜葡萄茶咖啡酒水牛奶面包米饭菜肉蛋汤糖盐油醋"
    "红黄蓝绿白黑紫灰粉金银铜铁钢玉石山河湖海江岛沙漠森林草原天空云雨雪风雷电星月太阳光影"
    "春夏秋冬早晚午夜今明昨周末季节年月日时分秒钟点刻号"
    "东南西北左右上下前后里外中间旁边附近远近高低长短大小多少快慢新旧好坏美丑冷热难易"
    "吃喝玩乐看听说读写走跑跳飞游坐站躺睡醒买卖送拿放开关打洗穿脱找等帮教学问答笑哭唱跳"
    "國們來說時會對這過還發無後經現實學點體機東長問兒業兩從義頭應間幾數與開關當電車馬魚鳥龍風雲書畫語話"
    "學習歷紀傳軟體網絡臺灣澳門廣東飛躍與繁簡區別貓狗鳥"
)

HANGUL_SYLLABLES_COMMON = (
    "가각간갈감갑강개거건걸검겁것게겨격견결경계고곡곤골공과관광괴교구국군굴궁권귀규균그극근글금급기긴길김"
    "까깨꼬꽃꾸끄끝나낙난날남납낭내너널네녀년녕노농높누눈느는늘능니다단달담답당대더덕도독돈동두둘드든들등디따때떡"
    "또뚜라락란람랑래량러런레려력련렬령례로록론료루류륙률르른를름리린림립마막만많말맛망매머먹멀메며면명모목몸못무문"
    "물미민밀바박반받발밤방배백버번벌범법벽변별병보복본봄부북분불비빈빛빨사산살삼상새색생서석선설성세소속손송수숙순"
    "술숨쉬스습승시식신실심십싸쓰씨아악안않알암압앙애야약양어억언얼엄업없엇에여역연열염영예오옥온올옷와완왕외요용우"
    "운울움웃워원월위유육윤은을음응의이익인일임입있자작잔잘잠장재저적전절점접정제조족존졸종좋좌주죽준줄중즈즉지직진"
    "질집짓차착찬참창채책처천철첫청체초촌총최추축춘출충취측치친칠침카코크키타탁탄탈탐탑태택터토통퇴투특트파판팔패퍼"
    "페편평폐포폭표푸품풍프피필하학한할함합항해핵행향허헌험혀혁현혈협형혜호혹혼홍화확환활황회획효후훈휴흐흑흔흘흥희"
    "히힘했됐갔왔봤줬였습니요세네죠까데"
)

# ----------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------

class Corpus:
    def __init__(self):
        self.lines, self.tags, self.seen = [], [], set()

    def add(self, text, tag):
        if text in self.seen:
            return
        assert text != "" and "\n" not in text and "\r" not in text, repr(text)
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), repr(text)
        assert "\x00" not in text
        self.seen.add(text)
        self.lines.append(text)
        self.tags.append(tag)


def sample_block(rng, lo, hi, n):
    out = []
    while len(out) < n:
        cp = rng.randint(lo, hi)
        if 0xD800 <= cp <= 0xDFFF or cp in (0, 10, 13):
            continue
        out.append(chr(cp))
    return "".join(out)


BLOCKS = [  # (name, first, last) -- assigned, unassigned and special code points alike
    ("ascii", 0x21, 0x7E), ("latin1", 0xA0, 0xFF), ("latinA", 0x100, 0x17F), ("latinB", 0x180, 0x24F),
    ("ipa", 0x250, 0x2AF), ("modifiers", 0x2B0, 0x2FF), ("combining", 0x300, 0x36F), ("greek", 0x370, 0x3FF),
    ("cyrillic", 0x400, 0x52F), ("armenian", 0x530, 0x58F), ("hebrew", 0x590, 0x5FF), ("arabic", 0x600, 0x6FF),
    ("syriac", 0x700, 0x74F), ("thaana", 0x780, 0x7BF), ("nko", 0x7C0, 0x7FF), ("devanagari", 0x900, 0x97F),
    ("bengali", 0x980, 0x9FF), ("tamil", 0xB80, 0xBFF), ("thai", 0xE00, 0xE7F), ("lao", 0xE80, 0xEFF),
    ("tibetan", 0xF00, 0xFFF), ("myanmar", 0x1000, 0x109F), ("georgian", 0x10A0, 0x10FF),
    ("jamo", 0x1100, 0x11FF), ("ethiopic", 0x1200, 0x137F), ("cherokee", 0x13A0, 0x13FF),
    ("ogham", 0x1680, 0x169F), ("runic", 0x16A0, 0x16FF), ("khmer", 0x1780, 0x17FF), ("mongolian", 0x1800, 0x18AF),
    ("phonetic", 0x1D00, 0x1DBF), ("combsupp", 0x1DC0, 0x1DFF), ("latinext", 0x1E00, 0x1EFF),
    ("greekext", 0x1F00, 0x1FFF), ("genpunct", 0x2000, 0x206F), ("supsub", 0x2070, 0x209F),
    ("currency", 0x20A0, 0x20CF), ("combsym", 0x20D0, 0x20FF), ("letterlike", 0x2100, 0x214F),
    ("numberforms", 0x2150, 0x218F), ("arrows", 0x2190, 0x21FF), ("math", 0x2200, 0x22FF),
    ("technical", 0x2300, 0x23FF), ("enclosed", 0x2460, 0x24FF), ("box", 0x2500, 0x259F),
    ("shapes", 0x25A0, 0x25FF), ("misc", 0x2600, 0x26FF), ("dingbats", 0x2700, 0x27BF),
    ("braille", 0x2800, 0x28FF), ("glagolitic", 0x2C00, 0x2C5F), ("latinC", 0x2C60, 0x2C7F),
    ("coptic", 0x2C80, 0x2CFF), ("suppunct", 0x2E00, 0x2E7F), ("cjkradicals", 0x2E80, 0x2EFF),
    ("kangxi", 0x2F00, 0x2FDF), ("cjksym", 0x3000, 0x303F), ("hiragana", 0x3040, 0x309F),
    ("katakana", 0x30A0, 0x30FF), ("bopomofo", 0x3100, 0x312F), ("compatjamo", 0x3130, 0x318F),
    ("enclosedcjk", 0x3200, 0x32FF), ("cjkcompat", 0x3300, 0x33FF), ("cjkextA", 0x3400, 0x4DBF),
    ("yijing", 0x4DC0, 0x4DFF), ("cjk", 0x4E00, 0x9FFF), ("yi", 0xA000, 0xA4CF), ("vai", 0xA500, 0xA63F),
    ("jamoextA", 0xA960, 0xA97F), ("hangul", 0xAC00, 0xD7A3), ("jamoextB", 0xD7B0, 0xD7FF),
    ("pua", 0xE000, 0xF8FF), ("cjkcompatideo", 0xF900, 0xFAFF), ("alphapres", 0xFB00, 0xFB4F),
    ("arabicpresA", 0xFB50, 0xFDFF), ("varsel", 0xFE00, 0xFE0F), ("vertical", 0xFE10, 0xFE1F),
    ("combhalf", 0xFE20, 0xFE2F), ("cjkcompatforms", 0xFE30, 0xFE4F), ("smallforms", 0xFE50, 0xFE6F),
    ("arabicpresB", 0xFE70, 0xFEFF), ("fullwidth", 0xFF00, 0xFFEF), ("specials", 0xFFF0, 0xFFFF),
    ("linearb", 0x10000, 0x1007F), ("gothic", 0x10330, 0x1034F), ("deseret", 0x10400, 0x1044F),
    ("osage", 0x104B0, 0x104FF), ("cuneiform", 0x12000, 0x123FF), ("hieroglyphs", 0x13000, 0x1342F),
    ("musical", 0x1D100, 0x1D1FF), ("mathalnum", 0x1D400, 0x1D7FF), ("adlam", 0x1E900, 0x1E95F),
    ("mahjong", 0x1F000, 0x1F0FF), ("enclosedalnum", 0x1F100, 0x1F1FF), ("emoji", 0x1F300, 0x1F5FF),
    ("emoticons", 0x1F600, 0x1F64F), ("transport", 0x1F680, 0x1F6FF), ("suppsym", 0x1F900, 0x1F9FF),
    ("symextA", 0x1FA70, 0x1FAFF), ("cjkextB", 0x20000, 0x2A6DF), ("cjkextC", 0x2A700, 0x2B73F),
    ("cjkextE", 0x2B820, 0x2CEAF), ("cjkcompatsupp", 0x2F800, 0x2FA1F), ("cjkextG", 0x30000, 0x3134F),
    ("cjkextH", 0x31350, 0x323AF), ("plane4", 0x40000, 0x4FFFF), ("tags", 0xE0000, 0xE007F),
    ("varselsupp", 0xE0100, 0xE01EF), ("puaA", 0xF0000, 0xFFFFD), ("puaB", 0x100000, 0x10FFFF),
]

SEPARATORS = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "", "-", ".", ",", "\u200b", "\u202f"]

SPECIAL_CHARS = {
    "ZWSP": "\u200b", "ZWNJ": "\u200c", "ZWJ": "\u200d", "WJ": "\u2060", "BOM": "\ufeff", "SHY": "\u00ad",
    "FFFD": "\ufffd", "NBSP": "\u00a0", "NNBSP": "\u202f", "FIGSP": "\u2007", "THINSP": "\u2009",
    "HAIRSP": "\u200a", "IDEOSP": "\u3000", "EMSP": "\u2003", "OGHAM": "\u1680", "MVS": "\u180e",
    "LSEP": "\u2028", "PSEP": "\u2029", "LRM": "\u200e", "RLM": "\u200f", "LRE": "\u202a", "RLO": "\u202e",
    "LRI": "\u2066", "PDI": "\u2069", "ALM": "\u061c", "IAA": "\ufff9", "IAT": "\ufffb", "NONCHAR1": "\ufffe",
    "NONCHAR2": "\uffff", "NONCHAR3": "\ufdd0", "NONCHAR4": "\U0001fffe", "U0378": "\u0378",
    "UNASSIGNED_BMP": "\u0870" if unicodedata.category("\u0870") == "Cn" else "\u0378", "PUA": "\ue000",
    "APPLE": "\uf8ff", "PUA15": "\U000f0000", "PUA16": "\U0010fffd", "TAG": "\U000e0041", "LANGTAG": "\U000e0001",
    "MUSICAL_CF": "\U0001d173", "VS16": "\ufe0f", "VS15": "\ufe0e", "VS17": "\U000e0100", "CGJ": "\u034f",
    "KEYCAP": "\u20e3", "COMB_ACUTE": "\u0301", "DOTTED_CIRCLE": "\u25cc", "NEL": "\u0085", "VT": "\u000b",
    "FF": "\u000c", "FS": "\u001c", "GS": "\u001d", "RS": "\u001e", "US": "\u001f", "DEL": "\u007f",
    "MAXCP": "\U0010ffff", "PLANE4": "\U00040000", "HANGUL_FILLER": "\u3164", "HALF_FILLER": "\uffa0",
    "BRAILLE_BLANK": "\u2800", "INVISIBLE_TIMES": "\u2062", "FUNCTION_APP": "\u2061",
}


def build_corpus(seed=20261123):
    rng = random.Random(seed)
    c = Corpus()

    def words(k, pool=WORDS):
        return [rng.choice(pool) for _ in range(k)]

    # English prose -------------------------------------------------------------------------
    for s in EN_SENTENCES:
        c.add(s, "en")
    puncts = [".", ",", "!", "?", ";", ":", "...", " -", " —", "'s", "n't", "'re"]
    for i in range(260):
        k = rng.randint(1, 28)
        ws = words(k)
        for j in range(len(ws)):
            r = rng.random()
            if r < 0.08: ws[j] = ws[j].capitalize()
            elif r < 0.12: ws[j] += rng.choice(puncts)
            elif r < 0.14: ws[j] = ws[j] + "-" + rng.choice(WORDS)
            elif r < 0.16: ws[j] = ws[j] + rng.choice(WORDS)          # compound -> ## pieces
            elif r < 0.17: ws[j] = "(" + ws[j] + ")"
            elif r < 0.18: ws[j] = "\"" + ws[j] + "\""
            elif r < 0.19: ws[j] = str(rng.randint(0, 99999))
        t = " ".join(ws)
        t = t[0].upper() + t[1:] + rng.choice([".", "!", "?", "", "...", "."])
        c.add(t, "en")
    # nonsense words force long WordPiece chains
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(60):
        ws = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 18))) for _ in range(rng.randint(1, 8))]
        c.add(" ".join(ws), "en-nonsense")

    # All caps / title case ------------------------------------------------------------------
    for s in EN_SENTENCES[:20]:
        c.add(s.upper(), "caps")
        c.add(s.title(), "caps")
    for i in range(60):
        c.add(" ".join(words(rng.randint(1, 15))).upper() + rng.choice(["!", "!!!", ".", "", "?"]), "caps")
    c.add("THE END IS NEAR!!! READ ALL ABOUT IT!!!", "caps")
    c.add("ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS &*%", "caps")
    c.add("iPHONE eBAY mIxEd CaSe wOrDs tHaT aRe WeIrD", "caps")

    # Accented Latin: NFC, NFD, mixed --------------------------------------------------------
    for s in ACCENTED_SENTENCES:
        c.add(NFC(s), "accent-nfc")
        c.add(NFD(s), "accent-nfd")
        c.add(NFC(s).upper(), "accent-nfc")
        c.add(NFD(NFC(s).upper()), "accent-nfd")
    for i in range(140):
        ws = [rng.choice(ACCENTED_WORDS) if rng.random() < 0.6 else rng.choice(WORDS) for _ in range(rng.randint(1, 10))]
        mode = rng.randint(0, 4)
        if mode == 0: t = NFC(" ".join(ws))
        elif mode == 1: t = NFD(" ".join(ws))
        elif mode == 2: t = " ".join(NFD(w) if rng.random() < 0.5 else NFC(w) for w in ws)
        elif mode == 3: t = " ".join(ws).upper()
        else: t = unicodedata.normalize(rng.choice(["NFKC", "NFKD"]), " ".join(ws))
        c.add(t, "accent")
    # stacked and reordered combining marks (NFD canonical reordering matters)
    stacks = ["a\u0301\u0323", "a\u0323\u0301", "e\u0302\u0323", "e\u0323\u0302", "o\u031b\u0303", "o\u0303\u031b",
              "u\u0308\u0304", "x\u0301\u0301\u0301", "q\u0307\u0323", "n\u0303\u0303\u0303\u0303\u0303",
              "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034d",
              "x\U0001d16d\U0001d165", "x\U0001d165\U0001d16d", "\U0001d15f\U0001d160", "\u0301alone",
              " \u0301 \u0300 \u0308 ", "a\u0338b \u2260 =\u0338", "i\u0307\u0301 I\u0307", "\u1e9b\u0323",
              "\u0344 \u0340 \u0341 \u0343", "A\u030a \u212b \u00c5", "\u2126 \u03a9 \u212a K", "e\u20dd a\u20e3 1\u20e3"]
    for s in stacks:
        c.add("word " + s + " end", "combining")
        c.add(s.upper(), "combining")

    # Chinese --------------------------------------------------------------------------------
    for s in ZH_SENTENCES:
        c.add(s, "zh")
    hanzi = list(dict.fromkeys(ch for ch in COMMON_HANZI))
    zh_punct = ["，", "。", "！", "？", "、", "；", "：", "“", "”", "（", "）", "《", "》", "…", "——", ".", ",", "!"]
    for i in range(110):
        n = rng.randint(1, 30)
        t = "".join(rng.choice(hanzi) for _ in range(n))
        style = rng.randint(0, 5)
        if style == 1: t = " ".join(t)
        elif style == 2: t = t[: n // 2] + rng.choice(zh_punct) + t[n // 2:] + rng.choice(zh_punct)
        elif style == 3: t = t + " " + " ".join(words(rng.randint(1, 4))) + " " + "".join(rng.choice(hanzi) for _ in range(4))
        elif style == 4: t = "".join(ch + rng.choice(["", " ", "a", "1", "é", "😀", "\u3000"]) for ch in t)
        elif style == 5: t = rng.choice(ZH_SENTENCES) + rng.choice(EN_SENTENCES)
        c.add(t, "zh" if style in (0, 1, 2) else "zh-mixed")
    for s in ["𠀀𠀁𠀂 𪜀 𫝀 𬺰 (extension B..F)", "㐀㐁㐂 䶵 (extension A)", "豈 更 車 賈 滑 (compatibility ideographs)",
              "丽 丸 乁 𠄢 (compatibility supplement)", "𰀀𰀁 𱍐 (extension G/H)", "⺀⺁⺂ ⼀⼁⼂ (radicals)",
              "〆〇〡〢〸〹〺 々 〻", "ㄅㄆㄇㄈ 注音符號", "㊀㊁㊂ ㈠㈡ ㍘㍙", "中文\u200b零宽\u200b空格", "中\u0301文 漢\u3099字",
              "全角　空格　分隔", "一二三四五六七八九十" * 3]:
        c.add(s, "zh")

    # Japanese, Korean ------------------------------------------------------------------------
    for s in JA_SENTENCES:
        c.add(s, "ja")
        c.add(NFD(s), "ja-nfd")
    hira = [chr(cp) for cp in range(0x3041, 0x3097)]
    kata = [chr(cp) for cp in range(0x30A1, 0x30FB)] + ["ー"]
    half = [chr(cp) for cp in range(0xFF66, 0xFF9F)]
    for i in range(50):
        pool = rng.choice([hira, kata, hira + kata + hanzi[:300], half])
        t = "".join(rng.choice(pool) for _ in range(rng.randint(1, 20)))
        if rng.random() < 0.3: t = NFD(t)
        if rng.random() < 0.3: t = t + " " + rng.choice(WORDS)
        c.add(t, "ja")
    for s in KO_SENTENCES:
        c.add(s, "ko")
        c.add(NFD(s), "ko-nfd")
    syl = list(dict.fromkeys(HANGUL_SYLLABLES_COMMON))
    for i in range(50):
        t = " ".join("".join(rng.choice(syl) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 6)))
        r = rng.random()
        if r < 0.25: t = NFD(t)
        elif r < 0.35: t = "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(1, 12)))
        elif r < 0.45: t = "".join(chr(rng.choice([rng.randint(0x1100, 0x11FF), rng.randint(0x3131, 0x318E)])) for _ in range(rng.randint(1, 12)))
        c.add(t, "ko")

    # Other scripts ---------------------------------------------------------------------------
    for tag, sents in [("ar", AR_SENTENCES), ("he", HE_SENTENCES), ("hi", HI_SENTENCES), ("th", TH_SENTENCES),
                       ("ru", RU_SENTENCES), ("el", EL_SENTENCES)]:
        for s in sents:
            c.add(s, tag)
            if NFD(s) != s:
                c.add(NFD(s), tag + "-nfd")
            if s.upper() != s and tag in ("ru", "el"):
                c.add(s.upper(), tag)
                c.add(s.lower(), tag)
    script_ranges = {"ar": (0x621, 0x64A), "he": (0x5D0, 0x5EA), "hi": (0x905, 0x94D), "th": (0xE01, 0xE4E),
                     "ru": (0x410, 0x44F), "el": (0x391, 0x3C9)}
    for tag, (lo, hi) in script_ranges.items():
        for i in range(18):
            t = " ".join(sample_block(rng, lo, hi, rng.randint(1, 10)) for _ in range(rng.randint(1, 6)))
            if tag == "el" and rng.random() < 0.4: t = t.upper() + " " + t.lower()
            c.add(t, tag)
    for w in ["ΟΔΥΣΣΕΥΣ", "ΣΟΦΟΣ", "ΑΣ", "Σ", "ΣΣ", "ΣΑΣ.", "ΑΣ-ΣΑ", "ΝΟΜΟΣ ΝΟΜΟΣ", "ΟΔΟΣ,ΟΔΟΣ", "ΛΟΓΟΣ1", "ΙΣΟΣ'"]:
        c.add(w, "el")

    # Emoji -----------------------------------------------------------------------------------
    for e in EMOJI:
        c.add(e, "emoji")
    for i in range(70):
        parts = []
        for _ in range(rng.randint(1, 10)):
            parts.append(rng.choice(EMOJI) if rng.random() < 0.6 else rng.choice(WORDS))
        sep = rng.choice([" ", "", " ", "\u200d"])
        c.add(sep.join(parts), "emoji")

    # Controls and invisible characters -------------------------------------------------------
    controls = [cp for cp in range(1, 32) if cp not in (10, 13)] + [0x7F] + list(range(0x80, 0xA0))
    for cp in controls:
        ch = chr(cp)
        c.add(f"word{ch}word and {ch} alone{ch}", "control")
    c.add("".join(chr(cp) for cp in controls), "control-only")
    c.add("\x01\x02\x03", "control-only")
    c.add("\x7f", "control-only")
    c.add("\x85\x9f\x80", "control-only")
    c.add("\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[0m", "control")
    c.add("Bell\x07 backspace\x08 formfeed\x0c vtab\x0b escape\x1b", "control")
    for i in range(25):
        t = "".join(rng.choice([chr(rng.choice(controls)), rng.choice(WORDS), " "]) for _ in range(rng.randint(2, 12)))
        c.add(t, "control")
    for name, ch in SPECIAL_CHARS.items():
        c.add(f"{ch}start mid{ch}dle between{ch} {ch}words end{ch}", "invisible")
        c.add(f"中{ch}文 {ch}", "invisible")
        if rng.random() < 0.5:
            c.add(ch, "invisible-only")
    for s in ["\u200b", "\u200b\u200c\u200d\ufeff", "\ufeff", "\u00ad", "\ufffd", "\ufffd\ufffd", "\u2060\u2061",
              "\U000e0001\U000e0041", "\ue000\uf8ff", "\u0378\u0379"]:
        c.add(s, "invisible-only")
    for s in [" ", "  ", "   ", "\t", " \t ", "\u00a0", "\u00a0\u00a0", "\u202f", "\u3000", "\u3000\u3000", "\u2003",
              "\u2028", "\u2029", "\u1680", "\x0b", "\x0c", "\x1c\x1d\x1e\x1f", "\x85", "\t\u3000\u00a0 \u2009",
              "\u200a\u2007\u2008\u205f"]:
        c.add(s, "whitespace-only")
    c.add("   leading and trailing spaces   ", "whitespace")
    c.add("multiple     internal      spaces", "whitespace")
    c.add("\t\ttabs\tand\u3000ideographic\u3000spaces\t", "whitespace")
    c.add("Zero\u200bwidth\u200bspace and\u00a0no-break\u00a0space and narrow\u202fno-break", "invisible")
    c.add("Soft\u00adhyphen in hy\u00adphen\u00adation", "invisible")
    c.add("\ufeffBOM at the start", "invisible")
    c.add("Replacement \ufffd char \ufffdhere\ufffd", "invisible")
    c.add("Right-to-left mark \u200f and left-to-right \u200e marks", "invisible")
    c.add("ZWJ\u200dinside and ZWNJ\u200cinside", "invisible")
    unassigned = [cp for cp in range(0x80, 0x30000) if unicodedata.category(chr(cp)) == "Cn"
                  and not (0xD800 <= cp <= 0xDFFF)]
    picks = sorted(rng.sample(unassigned, 60))
    for i in range(0, 60, 3):
        a, b, d = (chr(x) for x in picks[i:i + 3])
        c.add(f"unassigned {a} x{b}y {d}{d} end", "unassigned")
    for i in range(15):
        c.add(f"private {chr(rng.randint(0xE000, 0xF8FF))} use{chr(rng.randint(0xF0000, 0xFFFFD))} "
              f"{chr(rng.randint(0x100000, 0x10FFFD))}x", "private-use")

    # Long words -------------------------------------------------------------------------------
    def word_of(n, unit="a"):
        return (unit * n)[:n]
    for n in (99, 100, 101, 102, 150, 200, 300):
        c.add(word_of(n), "long-word")
        c.add("x " + word_of(n, "un") + " y", "long-word")
        c.add(word_of(n, "Ab"), "long-word")
    for n in (98, 99, 100, 101):
        c.add("é" * n, "long-word")                              # NFC: n chars (cased and uncased)
        c.add("e\u0301" * (n // 2) + ("e" if n % 2 else ""), "long-word")  # NFD: n chars cased, fewer uncased
        c.add("中" * n, "long-word")                              # split per char: never too long
        c.add("か" * n, "long-word")
        c.add("が" * n, "long-word")                              # uncased: NFD+strip -> n chars
        c.add("😀" * n, "long-word")
        c.add("ab" + "\u0301" * (n - 2), "long-word")
        c.add("\U0001d400" * n, "long-word")                      # astral letters: 4 UTF-8 bytes, 2 UTF-16 units
    for n in (33, 34, 50, 51):                                    # Hangul: 1 syllable -> 2 or 3 jamo under NFD
        c.add("가" * n, "long-word")
        c.add("한" * n, "long-word")
    c.add("가" * 50 + "ㅏ", "long-word")
    c.add("İ" * 100 + " " + "İ" * 101, "long-word")
    c.add("ﬁ" * 100 + " " + "ﬁ" * 101, "long-word")
    c.add("supercalifragilisticexpialidocious" * 3, "long-word")
    c.add("https://example.com/" + "a" * 120, "long-word")
    c.add("a\u200b" * 120, "long-word")                           # ZWSP removed -> one 120-char word
    c.add("a\u00ad" * 60, "long-word")
    c.add("a\x01" * 100, "long-word")
    c.add("internationalization" * 5 + " " + "internationalization" * 6, "long-word")

    # URLs and e-mail ---------------------------------------------------------------------------
    hosts = ["example.com", "www.example.org", "sub.domain.co.uk", "localhost", "127.0.0.1", "[::1]",
             "xn--mnchen-3ya.de", "münchen.de", "例子.测试", "пример.рф", "github.com", "huggingface.co",
             "a.b.c.d.e.f.g", "192.168.0.1:8080", "user:pass@host.net"]
    paths = ["", "/", "/index.html", "/docs/v2/getting-started", "/wiki/Bidirectional_Encoder_Representations",
             "/search?q=tokenizer&lang=en", "/a/b/c?x=1&y=2#frag", "/%E4%B8%AD%E6%96%87", "/路径/文件.txt",
             "/path/with spaces", "/~user/file.tar.gz", "/api/v1/users/42/posts?limit=10&offset=20",
             "/ümlaut/çedilla", "#section-2.1", "?utm_source=x&utm_medium=y"]
    for i in range(60):
        scheme = rng.choice(["http://", "https://", "ftp://", "", "www.", "file:///", "ws://"])
        url = scheme + rng.choice(hosts) + rng.choice(paths)
        t = rng.choice(["{}", "Visit {} for details.", "({})", "<{}>", "Link: {}, thanks!", "{}/{}"]).format(url, url)
        c.add(t, "url")
    users = ["john.doe", "jane_doe+tag", "x", "first.last.name", "user123", "ü.ser", "用户", "o'brien", "a-b",
             "\"quoted name\"", "UPPER.CASE"]
    for i in range(40):
        e = rng.choice(users) + "@" + rng.choice(hosts[:10])
        c.add(rng.choice(["{}", "Email me at {}.", "<{}>", "mailto:{}", "cc: {}, {}"]).format(e, e), "email")

    # Code --------------------------------------------------------------------------------------
    for s in CODE:
        c.add(s, "code")
    idents = ["foo", "bar", "baz", "myVariable", "snake_case_name", "SCREAMING_CASE", "__init__", "x1", "ptr",
              "self", "i", "tokenizerConfig", "HTTPServer", "getURL", "_private", "$jq", "@decorator"]
    for i in range(50):
        a, b, d = rng.choice(idents), rng.choice(idents), rng.choice(idents)
        t = rng.choice(["{a} = {b}({d}, {n})", "if ({a} >= {n} && {b} != null) {{ return {d}; }}",
                        "{a}.{b}[{n}] += {d} * 0x{n:X};", "def {a}({b}, *args, **kwargs): return {d}",
                        "let {a}: [{b}] = {d}.map {{ $0 * {n} }}", "{a}->{b}->{d} = NULL; // {n}",
                        "<{a} {b}=\"{d}\">{n}</{a}>", "\"{a}\": {{\"{b}\": [{n}, \"{d}\"]}}",
                        "{a} := {b}.{d}({n})\t// go", "SELECT {a}, {b} FROM {d} LIMIT {n};"]).format(
            a=a, b=b, d=d, n=rng.randint(0, 100000))
        c.add(t, "code")

    # Numbers, math, fullwidth, ligatures, Turkish / German ---------------------------------
    for i in range(60):
        n = rng.randint(0, 10**12)
        f = rng.random() * 10**rng.randint(0, 9)
        t = rng.choice([f"{n:,}", f"{n:_}", f"{f:,.2f}", f"{n:,}".replace(",", "."), f"{n:,}".replace(",", "\u00a0"),
                        f"{n:,}".replace(",", "\u202f"), f"{n:,}".replace(",", "\u2009"), f"{n:,}".replace(",", "'"),
                        f"{f:.3e}", f"-{f:.4f}%", f"${f:,.2f}", f"€{f:,.2f}", f"{f:,.2f} ₽", f"£{n}", f"¥{n:,}",
                        f"₹{n:,}", f"{n}st", f"#{n}", f"{n % 256}.{n % 255}.{n % 7}.{n % 100}",
                        f"+1 ({n % 1000:03d}) {n % 10000:04d}", f"{n % 24:02d}:{n % 60:02d}:{n % 59:02d}",
                        f"{1900 + n % 200}-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"])
        c.add(t, "number")
    for s in ["1,000,000.00 vs 1.000.000,00 vs 10,00,000", "3.14159265358979323846264338327950288419716939937510",
              "٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ ०१२३४५६७८९ ০১২৩ ๐๑๒๓ ０１２３４５６７８９", "½ ¼ ¾ ⅓ ⅔ ⅛ ⅐ ↉ 1⁄2",
              "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ⅰ ⅱ ⅻ ↀ ↁ", "x² y³ z⁴ H₂O CO₂ a₁₀ 10⁻⁹ n⁺", "①②③ ⑴⑵⑶ ⒈⒉⒊ ❶❷❸ 🄀🄁",
              "𝟎𝟏𝟐 𝟘𝟙𝟚 𝟶𝟷𝟸", "v1.2.3-beta.4+build.567", "2024-11-22T02:19:19Z", "MAC 00:1B:44:11:3A:B7",
              "1e10 1E-10 0.000001 -0 +0 1/3 22/7 3:2 50%", "№5 ℃ ℉ ° ‰ ‱ µm μm Å K Ω"]:
        c.add(s, "number")
    for s in ["σ(x) = 1 / (1 + e^{-x}); ∑_{i=1}^{n} x_i ≥ 0; ∀ε>0 ∃δ>0.", "∫₀^∞ e^{-x²} dx = √π/2",
              "A ⊆ B ∪ C ∩ D ∖ E, x ∈ ℝ, n ∈ ℕ, ∅ ≠ {0}", "f: X → Y, g ∘ f, ∂f/∂x, ∇·F, ∮", "a ≤ b ≥ c ≈ d ≡ e ≠ f ± g × h ÷ i",
              "¬(p ∧ q) ⇔ (¬p ∨ ¬q) ⊢ ⊤ ⊥ ⊨", "𝐀𝐁𝐂 𝑥𝑦𝑧 𝒜ℬ𝒞 𝔄𝔅ℭ 𝕏𝕐ℤ 𝖠𝖡𝖢 𝚊𝚋𝚌 𝛼𝛽𝛾", "∞ ∝ ∠ ∴ ∵ ∷ ⊕ ⊗ ⊙ ⋅ ⋯ ⋮",
              "2+2=4 3*3=9 10/2=5 2^10=1024 7%3=1 a<b>c", "⌈x⌉ ⌊y⌋ ⟨v|w⟩ ‖x‖ |y| ⟦z⟧",
              "dy/dx = lim_{h→0} (f(x+h)−f(x))/h", "−1 − 2 ‒ 3 – 4 — 5 ― 6"]:
        c.add(s, "math")
    for i in range(20):
        c.add("".join(chr(rng.randint(0x2200, 0x22FF)) if rng.random() < 0.5 else rng.choice(" xyz0123+-=()")
                      for _ in range(rng.randint(3, 20))), "math")
    for s in ["Fullwidth: ＡＢＣ１２３！", "ＨＥＬＬＯ　ＷＯＲＬＤ", "ｈｅｌｌｏ　ｗｏｒｌｄ", "（全角括号）［ｘ］｛ｙ｝",
              "＠＃＄％＾＆＊", "ＰｙＴｏｒｃｈ　２．０", "ｔｅｓｔ＿ｃａｓｅ－ｏｎｅ", "～！？。，：；",
              "ﾊﾝｶｸ ｶﾀｶﾅ and ＺＥＮＫＡＫＵ", "￠￡￢￣￤￥￦", "Ｔｈｅ　ｑｕｉｃｋ　ｂｒｏｗｎ　ｆｏｘ"]:
        c.add(s, "fullwidth")
    for s in ["Ligatures: ﬁne ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ", "ﬁnancial ofﬁce efﬁcient", "Ĳssel ĳs Œuvre œuf Æsir æther",
              "ǲ ǳ Ǳ ǆ ǅ Ǆ ǉ ǈ Ǉ ǌ ǋ Ǌ", "ﬓﬔﬕ ﬖﬗ", "ℌℍ℘ℑℜ ℓ ℮", "㎏ ㎞ ㎡ ㏄ ㍱"]:
        c.add(s, "ligature")
    for s in ["İstanbul ISTANBUL istanbul ıstanbul", "İ", "İİİ", "ı", "IıİiI", "DİYARBAKIR Diyarbakır",
              "Straße STRASSE strasse STRAẞE", "ß", "ẞ", "ßẞß", "Fußgängerübergänge", "MASSE Maße Masse",
              "ǅemal Ǆ ǆ", "ﬃ ß İ Σ ς", "İ\u0307 i\u0307 I\u0307", "Kelvin \u212a vs K", "Ångström \u212bngström"]:
        c.add(s, "case-special")
        c.add(s.lower(), "case-special")
        c.add(s.upper(), "case-special")
    punct_pool = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + list("¡¿«»‹›„“”‘’‚—–‐‑‒―…‰′″‴‵§¶†‡•·※‼‽⁇⁈⁉、。〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛・￥¦¨¯´¸")
    for i in range(60):
        t = "".join(rng.choice(punct_pool) for _ in range(rng.randint(1, 16)))
        if rng.random() < 0.4:
            t = rng.choice(WORDS) + t + rng.choice(WORDS)
        c.add(t, "punct")
    for s in ["...", "!!!???", "---", "?!?!", "…", "——", "«Bonjour»", "„Hallo“", "¿Qué? ¡Sí!", "‽", "(((nested)))",
              "[{<>}]", "--flag=value", "a--b---c", "''\"\"``", "end.", ".start", "mid.dle", "1.2.3.4.5", "a,b,c,,d"]:
        c.add(s, "punct")

    # Special tokens in text --------------------------------------------------------------------
    for s in SPECIAL_LINES:
        c.add(s, "special")
    specials = ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[Sep]", "[mask]"]
    for i in range(40):
        parts = [rng.choice(specials) if rng.random() < 0.35 else rng.choice(WORDS + ACCENTED_WORDS + list("中文字"))
                 for _ in range(rng.randint(1, 10))]
        c.add(rng.choice([" ", "", " ", "\u00a0"]).join(parts), "special")

    # Random strings from many Unicode blocks ---------------------------------------------------
    for i in range(330):
        blocks = [rng.choice(BLOCKS) for _ in range(rng.randint(1, 3))]
        parts = []
        for _ in range(rng.randint(1, 7)):
            name, lo, hi = rng.choice(blocks)
            parts.append(sample_block(rng, lo, hi, rng.randint(1, 12)))
        t = parts[0]
        for p in parts[1:]:
            t += rng.choice(SEPARATORS) + p
        c.add(t, "random-" + "+".join(b[0] for b in blocks))

    # Mixed scripts -------------------------------------------------------------------------------
    pools = (EN_SENTENCES + ACCENTED_SENTENCES + ZH_SENTENCES + JA_SENTENCES + KO_SENTENCES + AR_SENTENCES
             + HE_SENTENCES + HI_SENTENCES + TH_SENTENCES + RU_SENTENCES + EL_SENTENCES)
    for i in range(80):
        ws = []
        for _ in range(rng.randint(2, 4)):
            s = rng.choice(pools).split()
            a = rng.randint(0, len(s) - 1)
            ws.extend(s[a:a + rng.randint(1, 4)])
        c.add(" ".join(ws), "mixed")
    for i in range(40):
        t = "".join(rng.choice([rng.choice(hanzi), rng.choice(WORDS), " ", rng.choice(EMOJI), str(rng.randint(0, 999)),
                                rng.choice(zh_punct)]) for _ in range(rng.randint(3, 20)))
        c.add(t, "zh-mixed")

    # Truncation boundaries and long lines (> 512 tokens) --------------------------------------
    for n in (509, 510, 511, 512, 600):
        c.add(" ".join(["a"] * n), "long-exact")
        c.add("中" * n, "long-exact")
    c.add(" ".join(["unbelievable"] * 200), "long")                   # truncation can cut inside a word's pieces
    c.add(" ".join(["internationalization"] * 130), "long")
    for n, seed in [(600, 1), (800, 2), (700, 3)]:
        r = random.Random(seed)
        c.add(" ".join(r.choice(WORDS) for _ in range(n)) + ".", "long")
    c.add("".join(random.Random(4).choice(hanzi) for _ in range(700)), "long-zh")
    c.add("".join(random.Random(5).choice(hanzi + [" "] + WORDS) for _ in range(600)), "long-zh")
    c.add(" ".join(random.Random(6).choice(EMOJI) for _ in range(550)), "long")
    c.add(" ".join(random.Random(7).choice(KO_SENTENCES) for _ in range(80)), "long")
    c.add(" ".join(random.Random(8).choice(RU_SENTENCES + EL_SENTENCES) for _ in range(90)), "long")
    c.add(" ".join(random.Random(9).choice(CODE) for _ in range(40)), "long")
    c.add(NFD(" ".join(random.Random(10).choice(ACCENTED_SENTENCES) for _ in range(60))), "long")
    r = random.Random(11)
    c.add("".join(sample_block(r, *r.choice(BLOCKS)[1:], 3) + r.choice(SEPARATORS) for _ in range(400)), "long")
    c.add("[MASK] " * 600, "long")
    c.add("The history of natural language processing generally started in the 1950s. " * 40, "long")
    return c


# ----------------------------------------------------------------------------------------------
# Vocabularies
# ----------------------------------------------------------------------------------------------

HEAD = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class Vocab:
    def __init__(self):
        self.tokens, self.seen = list(HEAD), set(HEAD)

    def add(self, t):
        assert t and not any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in t), repr(t)
        assert t.strip() == t and t != "##"
        if t not in self.seen:
            self.seen.add(t)
            self.tokens.append(t)

    def add_all(self, ts):
        for t in ts:
            self.add(t)

    def write(self, path):
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(self.tokens) + "\n")


# Multi-code-point graphemes split into pieces (a grapheme-based tokenizer gets these wrong), and
# astral letters (4 UTF-8 bytes, 2 UTF-16 units, 1 code point for the 100-character word limit).
EMOJI_PIECES = ["😀", "##😀", "👍", "##👍", "##🏻", "##🏽", "##🏿", "❤", "##\ufe0f", "🇫", "🇺", "##🇷", "##🇸",
                "👩", "##\u200d", "##💻", "𝐀", "##𝐀"]


def split_uncased(uncased):
    body = uncased[104:]
    chars = [t for t in body if len(t) == 1]
    words = [t for t in body if not t.startswith("##") and len(t) > 1 and not t.startswith("[")]
    alpha = [t for t in words if t.isalpha() and t.isascii()]
    pieces = [t for t in body if t.startswith("##") and len(t) > 3]
    return chars, words, alpha, pieces


def build_cased(uncased):
    chars, words, alpha, pieces = split_uncased(uncased)
    v = Vocab()
    latin = [chr(cp) for cp in range(0xC0, 0x250) if unicodedata.category(chr(cp)) in ("Lu", "Ll")]
    greek_cyr = [chr(cp) for cp in list(range(0x391, 0x3CA)) + list(range(0x400, 0x460))
                 if unicodedata.category(chr(cp)) in ("Lu", "Ll")]
    singles = chars + [chr(cp) for cp in range(0x41, 0x5B)] + latin + greek_cyr + ["ẞ", "İ", "ı", "ﬁ", "ﬂ", "Σ", "ς"]
    v.add_all(singles)
    v.add_all("##" + ch for ch in singles)
    marks = [chr(cp) for cp in range(0x300, 0x370)] + ["\u3099", "\u309a", "\ufe0f", "\u0307"]
    v.add_all("##" + m for m in marks)
    v.add_all(["\u0301", "\u0300", "\u0308"])                     # a word can start with a mark in cased mode
    curated = [w.strip(".,:;!?()") for s in ACCENTED_SENTENCES for w in s.split()] + ACCENTED_WORDS
    curated = [w for w in curated if w and not any(ch in "()" for ch in w)]
    v.add_all(NFC(w) for w in curated)
    v.add_all("##" + NFC(w).lower() for w in ["é", "ü", "ö", "ä", "ß", "ñ", "ç", "ø", "å", "ée", "ür", "ich",
                                               "ße", "ção", "ões", "ẞE"])
    # canonically equivalent but distinct spellings (exact code-point lookup!)
    v.add_all([NFD("café"), NFD("Zürich"), NFD("##é"), "##e\u0301", "\u212b", "\u2126", "\u212a", NFD("Ångström"),
               "\u212bngström", NFD("São"), NFD("Tiếng"), NFD("İstanbul")])
    v.add_all(["ΟΔΥΣΣΕΥΣ", "Οδυσσεύς", "ΣΟΦΟΣ", "σοφός", "σοφοσ", "λόγος", "ΛΟΓΟΣ", "Αθήνα", "Ελλάδας", "Москва",
               "России", "Привет", "ПРИВЕТ", "привет", "мир", "ёлка", "ЁЛКА", "STRASSE", "Straße", "GROẞ", "ﬁne", "İ"])
    v.add_all(alpha[:2000])
    v.add_all(w.capitalize() for w in alpha[:1100])
    v.add_all(w.upper() for w in alpha[:150])
    v.add_all(w for w in words[:3000] if not w.isalpha())       # numbers, years, etc.
    v.add_all(pieces[:700])
    v.add_all("##" + p[2:].upper() for p in pieces[:60])
    hira = [chr(cp) for cp in range(0x3041, 0x3097)]         # voiced kana keep their dakuten when cased
    v.add_all(hira)
    v.add_all("##" + k for k in hira)
    v.add_all(["가", "##가", "한", "##한"])                      # Hangul stays precomposed when cased
    v.add_all(EMOJI_PIECES)
    return v


def build_cjk(uncased, corpus_lines, target=4900):
    chars, words, alpha, pieces = split_uncased(uncased)
    v = Vocab()
    ascii_chars = [chr(cp) for cp in range(0x21, 0x7F)]
    v.add_all(ascii_chars)
    v.add_all("##" + ch for ch in ascii_chars if ch.isalnum())
    cjk_punct = list("、。〈〉《》「」『』【】〔〕〜・ー，．！？：；（）＂＃＄％＆＇＊＋－／＜＝＞＠［＼］＾＿｀｛｜｝～…—‘’“”·￥")
    v.add_all(cjk_punct)
    # Hangul jamo (the uncased normaliser decomposes syllables into these), compatibility jamo
    jamo = [chr(cp) for cp in list(range(0x1100, 0x1113)) + list(range(0x1161, 0x1176)) + list(range(0x11A8, 0x11C3))]
    v.add_all(jamo)
    v.add_all("##" + j for j in jamo)
    v.add_all(chr(cp) for cp in range(0x3131, 0x318F))
    # kana (voiced kana lose their dakuten under the uncased normaliser; both spellings are here)
    kana = [chr(cp) for cp in list(range(0x3041, 0x3097)) + list(range(0x30A1, 0x30FB))] + ["ー"]
    v.add_all(kana)
    v.add_all("##" + k for k in kana)
    ja_words = ["です", "ます", "でした", "ました", "ありがとう", "ありかとう", "こんにちは", "さようなら", "ひらがな", "ひらかな",
                "カタカナ", "コンピューター", "コンヒューター", "プログラム", "フロクラム", "ラーメン", "すし", "ヴァイオリン",
                "ウァイオリン", "ポケモン", "ホケモン", "キャッシュ", "キャッシュ", "フロー", "ございます", "こさいます", "それで", "いい",
                "ですか", "ですね", "どこ", "ここ", "そこ", "あそこ", "これ", "それ", "あれ", "の", "は", "が", "を", "に", "で",
                "##です", "##ます", "##ました", "##する", "##した", "##って", "##ている"]
    v.add_all(ja_words)
    # Korean: syllables (never reached with do_lower_case=True), their jamo spellings, words
    syl = list(dict.fromkeys(HANGUL_SYLLABLES_COMMON))
    v.add_all(syl)
    v.add_all(NFD(s) for s in syl)
    v.add_all("##" + NFD(s) for s in syl[:200])
    ko_words = []
    for s in KO_SENTENCES:
        for w in s.replace(",", " ").replace(".", " ").replace("!", " ").split():
            if all(0xAC00 <= ord(ch) <= 0xD7A3 for ch in w):
                ko_words.append(w)
    v.add_all(NFD(w) for w in ko_words)
    v.add_all(ko_words[:20])
    v.add_all("##" + NFD(w[1:]) for w in ko_words if len(w) > 1)
    # Latin words and pieces
    v.add_all(alpha[:900])
    v.add_all(pieces[:300])
    v.add_all(w for w in words[:1500] if w.isdigit())
    # Hanzi: common ones, those the real vocab has, those in the corpus, then U+4E00.. to fill up
    is_han = lambda ch: 0x4E00 <= ord(ch) <= 0x9FFF
    common = list(dict.fromkeys(COMMON_HANZI))
    v.add_all(common)
    v.add_all("##" + h for h in common[:300])
    v.add_all(ch for ch in chars if is_han(ch))
    v.add_all(["𠮷", "㐀", "豈", "〇", "々"])
    v.add_all(EMOJI_PIECES)
    for line in corpus_lines:
        for ch in line:
            if is_han(ch) and len(v.tokens) < target:
                v.add(ch)
    cp = 0x4E00
    while len(v.tokens) < target:
        v.add(chr(cp))
        cp += 1
    assert len(v.tokens) == target, len(v.tokens)
    return v


# ----------------------------------------------------------------------------------------------
# Tokenizers and ids
# ----------------------------------------------------------------------------------------------

def make_tokenizers(vocab_path, lower):
    from transformers import BertTokenizer
    from transformers.models.bert.tokenization_bert import load_vocab
    from tokenizers import BertWordPieceTokenizer
    vocab = load_vocab(vocab_path)
    n_lines = len(open(vocab_path, encoding="utf-8").read().split("\n")) - 1
    main = BertTokenizer(vocab=vocab, do_lower_case=lower)
    assert main._tokenizer.get_vocab_size(with_added_tokens=True) == n_lines == len(vocab), vocab_path
    assert (main.cls_token_id, main.sep_token_id, main.pad_token_id, main.unk_token_id, main.mask_token_id) == \
        (101, 102, 0, 100, 103)
    d = tempfile.mkdtemp()
    shutil.copy(vocab_path, os.path.join(d, "vocab.txt"))
    json.dump({"do_lower_case": lower, "tokenizer_class": "BertTokenizer"}, open(os.path.join(d, "tokenizer_config.json"), "w"))
    loaded = BertTokenizer.from_pretrained(d)
    raw = BertWordPieceTokenizer(vocab_path, lowercase=lower, clean_text=True, handle_chinese_chars=True, strip_accents=None)
    raw.enable_truncation(MAX_LEN)
    return main, loaded, raw, d


def write_ids(path, ids_list):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ids in ids_list:
            f.write(json.dumps({"ids": ids}) + "\n")


def tokenize_all(name, vocab_path, lower, lines):
    main, loaded, raw, tmp = make_tokenizers(vocab_path, lower)
    ids = main(lines, truncation=True, max_length=MAX_LEN)["input_ids"]
    single = [main(t, truncation=True, max_length=MAX_LEN)["input_ids"] for t in lines[:200]]
    assert single == ids[:200], name
    ids2 = loaded(lines, truncation=True, max_length=MAX_LEN)["input_ids"]
    ids3 = [e.ids for e in raw.encode_batch(lines)]
    bad2 = [i for i in range(len(lines)) if ids[i] != ids2[i]]
    bad3 = [i for i in range(len(lines)) if ids[i] != ids3[i]]
    shutil.rmtree(tmp)
    if bad2 or bad3:
        sys.exit(f"{name}: cross-check failed: from_pretrained differs on {bad2[:10]}, BertWordPieceTokenizer on {bad3[:10]}")
    n_unk = sum(x == 100 for r in ids for x in r)
    n_trunc = sum(len(r) == MAX_LEN for r in ids)
    inner_special = sum(any(x in (0, 101, 102, 103) for x in r[1:-1]) for r in ids)
    only_cls_sep = sum(len(r) == 2 for r in ids)
    print(f"  {name}: {len(ids)} lines, {sum(map(len, ids))} ids, {n_unk} [UNK], {n_trunc} at {MAX_LEN}, "
          f"{inner_special} with [PAD]/[CLS]/[SEP]/[MASK] inside, {only_cls_sep} empty ([CLS][SEP])")
    return main, ids


# ----------------------------------------------------------------------------------------------
# Tiny Chinese model
# ----------------------------------------------------------------------------------------------

def tiny_cjk(cjk_vocab_path, texts):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel
    torch.set_num_threads(2)
    shutil.rmtree(TINY, ignore_errors=True)
    os.makedirs(TINY)
    shutil.copy(cjk_vocab_path, os.path.join(TINY, "vocab.txt"))
    n_vocab = len(open(cjk_vocab_path, encoding="utf-8").read().split("\n")) - 1
    torch.manual_seed(11)
    cfg = BertConfig(vocab_size=n_vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=TINY_MAX_LEN, type_vocab_size=2, hidden_act="gelu")
    model = BertModel(cfg, add_pooling_layer=False).eval()
    with torch.no_grad():  # spread the LayerNorm parameters away from 1 / 0 so they are tested
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(TINY, safe_serialization=True)
    # The repository's hook bans *.safetensors; the Swift tests copy the file back under its real name.
    os.rename(os.path.join(TINY, "model.safetensors"), os.path.join(TINY, "model.safetensors.tiny"))
    json.dump({"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None,
               "tokenizer_class": "BertTokenizer", "model_max_length": TINY_MAX_LEN},
              open(os.path.join(TINY, "tokenizer_config.json"), "w"))
    with open(os.path.join(TINY, "texts.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(texts) + "\n")
    tok = AutoTokenizer.from_pretrained(TINY)
    assert type(tok).__name__ == "BertTokenizer" and len(tok) == n_vocab, (type(tok), len(tok))
    write_ids(os.path.join(TINY, "ids.jsonl"), [tok(t, truncation=True, max_length=TINY_MAX_LEN)["input_ids"] for t in texts])
    n_tokens = 0
    with open(os.path.join(TINY, "hidden_states.f32"), "wb") as f:
        for t in texts:
            enc = tok(t, truncation=True, max_length=TINY_MAX_LEN, return_tensors="pt")
            with torch.no_grad():
                hs = model(**enc, output_hidden_states=True).hidden_states
            arr = torch.stack(hs, 0)[:, 0].numpy().astype("<f4")  # [layers+1][tokens][hidden]
            n_tokens += arr.shape[1]
            f.write(arr.tobytes())
    print(f"tiny-cjk: {len(texts)} texts, {n_tokens} tokens, vocab {n_vocab}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    return tok


# ----------------------------------------------------------------------------------------------

def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(OUT, "vocab-uncased.txt")
    if len(sys.argv) > 2 or not os.path.isfile(src):
        sys.exit(__doc__)
    uncased = open(src, encoding="utf-8").read().split("\n")
    assert uncased[-1] == "" and len(uncased) - 1 == 30522, "expected the 30522-token uncased BERT vocab"
    uncased = uncased[:-1]
    assert uncased[:1] == ["[PAD]"] and uncased[100:104] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    os.makedirs(OUT, exist_ok=True)
    if os.path.abspath(src) != os.path.abspath(os.path.join(OUT, "vocab-uncased.txt")):
        shutil.copy(src, os.path.join(OUT, "vocab-uncased.txt"))

    corpus = build_corpus()
    lines = corpus.lines
    with open(os.path.join(OUT, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    check = open(os.path.join(OUT, "corpus.txt"), encoding="utf-8", newline="").read().split("\n")[:-1]
    assert check == lines
    print(f"corpus: {len(lines)} lines")

    build_cased(uncased).write(os.path.join(OUT, "vocab-cased.txt"))
    build_cjk(uncased, lines).write(os.path.join(OUT, "vocab-cjk.txt"))

    configs = [("uncased", "vocab-uncased.txt", True), ("cased", "vocab-cased.txt", False), ("cjk", "vocab-cjk.txt", True)]
    all_ids = {}
    for name, vocab, lower in configs:
        _, ids = tokenize_all(name, os.path.join(OUT, vocab), lower, lines)
        write_ids(os.path.join(OUT, f"ids-{name}.jsonl"), ids)
        all_ids[name] = ids

    # ~40 Chinese / mixed lines for the tiny model: short and long, with and without Latin text
    rng = random.Random(42)
    zh = [i for i, tag in enumerate(corpus.tags) if tag in ("zh", "zh-mixed", "long-zh")
          and len(all_ids["cjk"][i]) > 2 and len(lines[i]) < 200]
    pick = sorted(set(rng.sample(zh, 38) + [i for i, tag in enumerate(corpus.tags) if tag == "long-zh"][:1]
                      + [lines.index("中" * 509)]))
    texts = [lines[i] for i in pick]
    tok = tiny_cjk(os.path.join(OUT, "vocab-cjk.txt"), texts)
    for i, t in zip(pick, texts):  # the model's tokenizer agrees with ids-cjk (up to the shorter truncation)
        a = tok(t, truncation=True, max_length=TINY_MAX_LEN)["input_ids"]
        b = all_ids["cjk"][i]
        assert a[:-1] == b[:len(a) - 1] and a[-1] == 102, (t, a, b)


if __name__ == "__main__":
    main()
