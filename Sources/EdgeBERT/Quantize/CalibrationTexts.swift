/// The calibration set built into `quantize`: short and long, prose, questions, numbers, code,
/// markup, other scripts, emoji. Written for this purpose; not the test corpus.
enum CalibrationTexts {
    static let builtIn: [String] = [
        "ok", "Yes.", "Good morning!", "Why?", "See you tomorrow", "🙂", "10/10 would recommend",
        "Where is the nearest train station?",
        "The committee approved the budget after a long debate about school funding.",
        "My laptop battery drains quickly when I watch videos in full screen.",
        "Preheat the oven to 200 degrees and bake the bread for forty minutes.",
        "Scientists discovered a new species of frog in the rainforest last spring.",
        "The patient reported mild headaches and dizziness after the second dose.",
        "Our quarterly revenue grew by 8.4% compared with the same period last year.",
        "Can you recommend a good book about the history of mathematics?",
        "He plays guitar in a small band that performs every Friday night downtown.",
        "The river flooded the village, and hundreds of families had to leave their homes.",
        "Remember to water the plants and feed the cat while I am away.",
        "Order #58213 shipped on 2023-07-19 via express courier, ETA 2 days.",
        "Call me at +44 20 7946 0958 or write to support@company.example.",
        "Download the latest release from https://example.com/releases/v3.1.0/app.tar.gz",
        "if err != nil { return fmt.Errorf(\"open %s: %w\", path, err) }",
        "import numpy as np; x = np.linspace(0, 1, 100); print(x.mean())",
        "<ul><li>First item</li><li>Second item</li></ul>",
        "ERROR 2024-03-02 11:04:55 worker-3 timeout after 30s (retry 2/5)",
        "THIS OFFER EXPIRES AT MIDNIGHT — ACT NOW!!!",
        "La vie est belle quand on partage un bon repas avec des amis.",
        "Der Zug nach München fährt heute mit zwanzig Minuten Verspätung ab.",
        "¿Dónde está la biblioteca? Necesito devolver tres libros.",
        "Санкт-Петербург известен своими белыми ночами.",
        "北京是中国的首都，也是一座历史悠久的城市。", "我明天要去上海开会",
        "日本語の文章とEnglishが混ざっています。", "서울은 한국의 수도입니다.",
        "यह एक छोटा सा वाक्य है।", "هذا نص قصير للتجربة.", "🎉🎂 Happy birthday!! 🥳",
        "Photosynthesis converts light energy into chemical energy stored in glucose, releasing oxygen as a by-product; the process takes place in the chloroplasts of plant cells and depends on water, carbon dioxide and sunlight, and its rate varies with temperature, light intensity and the concentration of carbon dioxide in the air.",
        String(repeating: "Long documents repeat ideas across many sentences so that the model sees every position. ", count: 8),
    ]
}

extension Converter {
    /// The texts `quantize` calibrates on when given none (also what `compare` compares on then).
    public static var builtInCalibrationTexts: [String] { CalibrationTexts.builtIn }
}
