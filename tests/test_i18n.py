"""--lang zh: the catalog is complete and consistent, the language is chosen as documented, the
Chinese outputs carry the English numbers in the glossary's terms, and tables stay aligned.

The CLI is run in a fresh process (`gradtrace.cli.main`), as a user runs it: --lang is read
before the command's own options, and the language chosen must not leak into other tests.
"""

import ast
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gradtrace
from gradtrace.cli import COMMANDS, help_catalog, help_text
from gradtrace.core import i18n
from gradtrace.core.errors import display_width
from gradtrace.core.glossary import lookup, terms

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradtrace"
LOCALE = PACKAGE / "locale" / "zh" / "LC_MESSAGES"
GOLDEN = Path(__file__).resolve().parent / "golden"
KEYWORDS = {"_": None, "N_": None, "message": None, "fill_segments": None, "ngettext": (1, 2)}
SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def gradtrace_cli(*args, env=None, cwd=None):
    """`gradtrace ARGS` in a new process, the locale variables cleared unless `env` sets them."""
    environ = {key: value for key, value in os.environ.items()
               if key not in ("GRADTRACE_LANG", "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    environ.update(NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-c", "from gradtrace.cli import main; main()", *args],
                          capture_output=True, text=True, env=environ, cwd=cwd, timeout=300)


def catalog():
    from babel.messages.pofile import read_po

    with open(LOCALE / "gradtrace.po", "rb") as file:
        return read_po(file)


def entries():
    """(msgid, plural msgid or None, translations) of every message of the catalog."""
    for message in catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id, None)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield ids[0], ids[1], strings, message


# -- the catalog ------------------------------------------------------------------------------

def test_every_message_the_source_marks_has_a_chinese_translation_and_none_is_fuzzy():
    pytest.importorskip("babel")
    from babel.messages.extract import extract_from_dir

    found = {message[2] if isinstance(message[2], str) else message[2][0]
             for message in extract_from_dir(str(PACKAGE), keywords=KEYWORDS)}
    translated = {msgid: (strings, entry) for msgid, _plural, strings, entry in entries()}
    assert len(found) > 700  # the extraction did find the package's messages
    missing = sorted(found - set(translated))
    assert not missing, f"not in the catalog: {missing[:10]}"
    empty = sorted(msgid for msgid in found if not all(translated[msgid][0]))
    assert not empty, f"no Chinese translation: {empty[:10]}"
    fuzzy = sorted(msgid for msgid, (_strings, entry) in translated.items() if entry.fuzzy)
    assert not fuzzy, f"fuzzy entries: {fuzzy[:10]}"
    unused = sorted(set(translated) - found)
    assert not unused, f"in the catalog but not in the source: {unused[:10]}"


def test_every_marking_call_in_the_source_is_seen_by_the_extraction():
    """Babel does not see a call inside an f-string (Python 3.11) or nested in another marked
    call: each call with a literal template, as Python parses it, is in the catalog."""
    translated = {msgid for msgid, *_rest in entries()}
    unseen = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in KEYWORDS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value not in translated):
                unseen.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unseen


_FIELD = re.compile(r"\{([A-Za-z_]\w*)((?:![rsa])?(?::[^{}]*)?)\}")


def fields(text: str) -> list:
    return sorted(_FIELD.findall(text.replace("{{", "").replace("}}", "")))


def test_every_translation_keeps_exactly_the_named_placeholders():
    lost = [(msgid, fields(msgid), fields(string)) for msgid, plural, strings, _entry in entries()
            for string in strings if fields(string) != fields(msgid)
            or (plural is not None and fields(plural) != fields(msgid))]
    assert not lost
    # the check can fail: a translation that drops a field is caught
    assert fields("{node} = {written}") != fields("{node} =")


def test_the_committed_mo_is_what_compiling_the_po_gives():
    pytest.importorskip("babel")
    from babel.messages.mofile import write_mo

    compiled = io.BytesIO()
    write_mo(compiled, catalog())
    assert compiled.getvalue() == (LOCALE / "gradtrace.mo").read_bytes(), \
        "run: pybabel compile -d gradtrace/locale -D gradtrace -l zh (CONTRIBUTING.md)"


# -- the glossary -----------------------------------------------------------------------------

_NOT_PROSE = re.compile(r"gradtrace[ .][a-z_]+|\{[^{}]*\}|--[a-z][\w-]*|`[^`]*`|\b[A-Z_]{2,}\w*"
                        r"|\w+\(|[a-z]+_[a-z_]+|\w+=\w*")


def test_messages_with_a_glossary_term_use_its_chinese_term():
    """'upstream gradient' is 上游梯度 in every translation of a message that holds it, and so
    for every term (options, fields and code in a message are not its words)."""
    wrong = []
    for msgid, plural, strings, _entry in entries():
        for text in filter(None, (msgid, plural)):
            words = _NOT_PROSE.sub(" ", text)
            for term in terms():
                if re.search(r"(?<![\w-])" + re.escape(term.english) + r"(?:s|es)?(?![\w-])",
                             words, re.IGNORECASE):
                    wrong += [(term.english, msgid) for string in strings
                              if term.chinese not in string]
    assert not wrong
    backward = i18n.catalog("zh").gettext("Each step: input ← node: upstream × local = downstream.")
    assert "上游梯度" in backward and "局部导数" in backward and "下游梯度" in backward


def test_the_glossary_holds_the_notes_terms_once_each():
    english = [term.english.casefold() for term in terms()]
    assert len(english) == len(set(english))
    wanted = {"upstream gradient": "上游梯度", "local gradient": "局部梯度", "chain rule": "链式法则",
              "add gate": "加法门", "mul gate": "乘法门", "max gate": "最大门", "Jacobian": "雅可比矩阵",
              "forward pass": "前向传播", "backward pass": "反向传播", "vanishing": "梯度消失"}
    by_english = {term.english: term.chinese for term in terms()}
    assert {key: by_english.get(key) for key in wanted} == wanted
    assert all(term.sources and set(term.sources) <= {"d2l", "cs231n", "nndl", "dlfs"}
               for term in terms())


NOTES = {"d2l": ("000_", "004_"), "cs231n": ("001_",), "nndl": ("002_",), "dlfs": ("003_",)}


@pytest.mark.skipif(not os.environ.get("GRADTRACE_NOTES"),
                    reason="set GRADTRACE_NOTES to the folder of the course notes")
def test_each_chinese_term_is_in_the_notes_it_names():
    folder = Path(os.environ["GRADTRACE_NOTES"])
    texts = {source: "".join(path.read_text(encoding="utf-8") for prefix in prefixes
                             for path in folder.glob(prefix + "*"))
             for source, prefixes in NOTES.items()}
    assert not [(term.chinese, source) for term in terms() for source in term.sources
                if term.chinese not in texts[source]]


def test_the_glossary_is_searched_both_ways():
    by_chinese = {term.english for term in lookup("梯度")}
    assert {"gradient", "upstream gradient", "local gradient", "gradient descent"} <= by_chinese
    by_english = {term.chinese for term in lookup("GRADIENT")}
    assert {"梯度", "上游梯度", "梯度下降"} <= by_english
    assert "链式法则" not in by_english
    assert lookup("") == terms()


def test_gradtrace_glossary_shows_both_directions_and_the_whole_table():
    found = gradtrace_cli("glossary", "梯度", "--format", "json")
    assert found.returncode == 0, found.stderr
    document = json.loads(found.stdout)
    assert document["query"] == "梯度"
    assert {"english": "upstream gradient", "chinese": "上游梯度", "sources": ["cs231n"]} in \
        document["terms"]
    text = gradtrace_cli("glossary", "chain rule", "--format", "text").stdout
    assert "chain rule" in text and "链式法则" in text and "梯度下降" not in text
    whole = gradtrace_cli("glossary", "--format", "markdown").stdout
    assert whole.count("\n| ") == len(terms()) + 1  # the header and one row per term
    chinese = gradtrace_cli("glossary", "gradient", "--lang", "zh", "--format", "text").stdout
    assert chinese.startswith("术语表：gradient\n英文") and "出处：" in chinese
    missing = gradtrace_cli("glossary", "no-such-term")
    assert missing.returncode == 1 and "no-such-term" in missing.stderr


# -- choosing the language --------------------------------------------------------------------

@pytest.mark.parametrize("environ, expected", [
    ({}, "en"),
    ({"GRADTRACE_LANG": "zh"}, "zh"),
    ({"GRADTRACE_LANG": "zh_CN"}, "zh"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),  # LC_ALL before LANG
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "GRADTRACE_LANG": "en"}, "en"),  # GRADTRACE_LANG before the locale
])
def test_the_language_comes_from_gradtrace_lang_then_the_locale(environ, expected):
    assert i18n.from_environment(environ) == expected


def test_an_unknown_gradtrace_lang_is_refused_naming_the_choices():
    with pytest.raises(i18n.UnknownLanguage, match="en or zh"):
        i18n.from_environment({"GRADTRACE_LANG": "fr"})


def test_the_environment_and_the_locale_select_chinese_and_lang_en_overrides_them():
    args = ("explain", "x*y", "--at", "x=2,y=3", "--format", "text", "--no-check")
    assert "前向传播" in gradtrace_cli(*args, env={"GRADTRACE_LANG": "zh"}).stdout
    assert "前向传播" in gradtrace_cli(*args, env={"LANG": "zh_CN.UTF-8"}).stdout
    english = gradtrace_cli(*args, "--lang", "en",
                            env={"GRADTRACE_LANG": "zh", "LANG": "zh_CN.UTF-8"}).stdout
    assert "Forward pass" in english and "前向传播" not in english
    assert english == gradtrace_cli(*args).stdout  # English by default
    assert "Forward pass" in gradtrace_cli(*args, "--lang=zh", "--lang", "en").stdout


@pytest.mark.parametrize("args, variable", [(("--lang", "fr"), {}),
                                            ((), {"GRADTRACE_LANG": "klingon"})])
def test_an_unknown_language_is_a_usage_error_naming_the_choices(args, variable):
    refused = gradtrace_cli("explain", "x*y", *args, env=variable)
    assert refused.returncode == 2
    assert "en or zh" in refused.stderr and refused.stdout == ""


def test_every_command_s_help_says_that_lang_zh_exists():
    for command in COMMANDS:
        page = gradtrace_cli(command, "--help").stdout
        assert "--lang en|zh" in page and "--lang zh" in page, command


def test_the_python_api_renders_in_the_language_asked_and_only_there():
    trace = gradtrace.explain("log(x) + y*y", at={"x": 0, "y": 2})
    english_before = trace.to_text()
    chinese = trace.to_text(lang="zh")
    assert "反向传播" in chinese and "log(0) 为 -inf" in chinese
    # the problem was first written in Chinese, and is said again in English afterwards
    assert trace.to_text() == english_before
    assert "log(0) is -inf" in english_before
    assert "反向传播" in trace.to_markdown(lang="zh")
    assert json.loads(trace.to_json(lang="zh"))["lang"] == "zh"
    assert "lang" not in json.loads(trace.to_json())
    with i18n.language("zh"):
        assert i18n.current() == "zh"
        assert "Backward pass" in trace.to_text(lang="en")
    assert i18n.current() == "en"


def test_a_message_kept_by_the_engine_is_said_again_in_a_later_language():
    with i18n.language("zh"):
        made = i18n.message("division by zero")
        joined = i18n.Joined([made, i18n.message("the result is not finite")])
    assert made == "除以零"
    assert i18n.again(made) == "division by zero"
    assert i18n.again(joined) == "division by zero; the result is not finite"


# -- the acceptance outputs -------------------------------------------------------------------

def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


EXPLAIN = ("explain", SIGMOID, "--at", SIGMOID_AT, "--format", "text")
MLP = ("mlp", "--layers", "4,5,3", "--format", "text")
CNN = ("cnn", "--format", "text")


@pytest.mark.parametrize("args, name", [(EXPLAIN, "explain_sigmoid_neuron.zh.txt"),
                                        (MLP, "mlp_4_5_3.zh.txt"), (CNN, "cnn.zh.txt")])
def test_the_chinese_outputs_are_the_golden_ones(args, name):
    done = gradtrace_cli(*args, "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert done.stdout == golden(name)


def test_a_parse_error_in_chinese_is_the_golden_one_with_its_caret():
    done = gradtrace_cli("explain", "x +* (", "--lang", "zh", "--format", "text")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == golden("parse_error.zh.txt")
    lines = done.stderr.splitlines()
    assert lines[1] == "x +* (" and lines[2] == "   ^"  # under the '*'


def test_the_chinese_explanation_prints_the_english_numbers_token_by_token():
    english = gradtrace_cli(*EXPLAIN).stdout
    chinese = gradtrace_cli(*EXPLAIN, "--lang", "zh").stdout
    assert len(NUMBER.findall(english)) > 300
    assert NUMBER.findall(chinese) == NUMBER.findall(english)
    # every sentence in the glossary's terms, none left in English
    for words in ("前向传播", "反向传播", "上游梯度 × 局部导数 = 下游梯度", "链式法则", "加法门：梯度分布器",
                  "乘法门：梯度转换器"):
        assert words in chinese
    assert english_runs(chinese) == []


@pytest.mark.parametrize("args", [MLP, CNN], ids=["mlp", "cnn"])
def test_the_chinese_layer_steps_print_the_english_numbers_line_by_line(args):
    """Line by line; within a line a sentence may put its numbers in another order ("1 of 5"
    is 5 个中的 1 个)."""
    english = gradtrace_cli(*args).stdout.splitlines()
    chinese = gradtrace_cli(*args, "--lang", "zh").stdout.splitlines()
    assert len(chinese) == len(english)
    assert [sorted(NUMBER.findall(line)) for line in chinese] == \
        [sorted(NUMBER.findall(line)) for line in english]
    text = "\n".join(chinese)
    for words in ("前向传播，逐层", "反向传播，逐层（δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾）", "梯度健康状况"):
        assert words in text


# -- display width ----------------------------------------------------------------------------

def column_starts(line: str, texts) -> list[int]:
    """The display column where each of `texts` starts in `line`, in order."""
    starts, position = [], 0
    for text in texts:
        position = line.index(text, position)
        starts.append(display_width(line[:position]))
        position += len(text)
    return starts


def test_a_table_with_chinese_headers_and_names_stays_aligned():
    from gradtrace.narrate.blocks import Section, Table
    from gradtrace.render.plain import render_plain

    rows = (("权重", "-1.00", "梯度很大"), ("x", "2.50", "ok"), ("偏置项b", "10.25", "—"))
    table = Table(("名字", "值", "说明"), ("name", "value", ""), rows)
    lines = render_plain([Section("表", (table,))]).splitlines()
    header, body = lines[1], lines[3:6]
    assert set(lines[2]) == {"─"}
    starts = [column_starts(line, cells) for line, cells in
              zip(body, rows)]
    assert starts[0][0] == starts[1][0] == starts[2][0] == column_starts(header, ["名字"])[0]
    assert starts[0][2] == starts[1][2] == starts[2][2] == column_starts(header, ["说明"])[0]
    # numbers are right-aligned: they end in one display column, under the header's end
    ends = [display_width(line[:line.index(cells[1]) + len(cells[1])])
            for line, cells in zip(body, rows)]
    assert len(set(ends)) == 1
    assert ends[0] == display_width(header[:header.index("值") + 1])
    assert display_width(lines[2]) == max(display_width(line) for line in lines[1:6])


def test_narrated_lines_with_chinese_words_put_their_notes_in_one_column():
    from gradtrace.narrate.blocks import Section
    from gradtrace.narrate.lines import Line
    from gradtrace.render.plain import render_plain

    lines = (Line((("h1 = 权重 × x", ""),), "乘法门"), Line((("h2 = h1 + b", ""),), "加法门"))
    text = render_plain([Section("前向传播", (lines,))]).splitlines()
    assert column_starts(text[1], ["乘法门"]) == column_starts(text[2], ["加法门"])


def test_the_caret_counts_chinese_characters_as_two_columns():
    done = gradtrace_cli("explain", "权重 * * x", "--lang", "zh", "--format", "text")
    assert done.returncode == 2
    _heading, expression, caret, _why = done.stderr.splitlines()
    assert expression == "权重 * * x"
    assert display_width(caret) - 1 == display_width("权重 * ")


# -- every command speaks Chinese -------------------------------------------------------------

WORD = r"[A-Za-z][a-z]+"
_ENGLISH_RUN = re.compile(rf"(?<![\w./(=-]){WORD}(?: {WORD}){{2,}}(?![\w(=/])")


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words in a row: an untranslated sentence (math, names,
    numbers and code never hold three plain words in a row)."""
    return _ENGLISH_RUN.findall(text)


def test_the_english_run_detector_finds_an_untranslated_sentence():
    assert english_runs("h1 ← h2: 0.20 × 1 = 0.20   add gate: distributor") == []
    assert english_runs("梯度：the output's gradient starts at 1") == ["gradient starts at"]
    assert english_runs("relu, reshape, sigmoid, silu, sin") == []


SMOKE = {
    "explain forward mode": ("explain", "x*y+max(x,y)", "--mode", "forward", "--format", "text"),
    "explain vectors": ("explain", "sum(relu(W@x+b))", "--at", "W=[[1,-2],[3,4]]", "--at",
                        "x=[1,2]", "--at", "b=[0.5,-10]", "--jacobians", "--format", "text"),
    "explain problems": ("explain", "log(x)+relu(y)+mse(x, y)", "--at", "x=0,y=0",
                         "--format", "text"),
    "explain markdown": ("explain", "1/(1+exp(-(w*x+b)))", "--fuse", "--format", "markdown"),
    "jacobian": ("jacobian", "tanh(W@x)", "--wrt", "x", "--at", "W=randn(3,4)", "--at",
                 "x=randn(4)", "--format", "text"),
    "check": ("check", "(y-sigmoid(w*a))**2/2", "--claim",
              "w=(y-sigmoid(w*a))*sigmoid(w*a)*(1-sigmoid(w*a))*a", "--format", "text"),
    "gradcheck": ("gradcheck", "conv2d", "--format", "text"),
    "train": ("train", "--data", "xor", "--layers", "2,4,1", "--epochs", "50",
              "--format", "text"),
    "optimize": ("optimize", "x**2/20 + y**2", "--opt", "sgd,momentum,nesterov,adam",
                 "--format", "text"),
    "ops": ("ops", "--format", "text"),
    "quiz": ("quiz", "x*y+z", "--blank", "all", "--format", "text"),
    "mlp saturated": ("mlp", "--layers", "4,5,3", "--depth", "6", "--act", "sigmoid", "--init",
                      "normal", "--format", "text"),
    "cnn stride": ("cnn", "--input", "1x7x7", "--conv", "1x3x3", "--stride", "3", "--pool", "1",
                   "--format", "text"),
    "usage error": ("mlp", "--layers", "4,x"),
}


@pytest.mark.parametrize("args", SMOKE.values(), ids=SMOKE.keys())
def test_every_command_speaks_chinese(args):
    done = gradtrace_cli(*args, "--lang", "zh")
    output = done.stdout + done.stderr
    assert re.search("[\u4e00-\u9fff]", output), output
    assert english_runs(output) == []


def test_pictures_and_their_messages_speak_chinese(tmp_path):
    dot = gradtrace_cli("graph", "x*y+z", "-o", str(tmp_path / "g.dot"), "--lang", "zh")
    assert dot.returncode == 0 and dot.stderr.startswith("已写入 ")
    assert "每个框：名字" in (tmp_path / "g.dot").read_text(encoding="utf-8")
    pytest.importorskip("matplotlib")
    plot = gradtrace_cli("plot", "tanh(x)", "-o", str(tmp_path / "p.svg"), "--lang", "zh")
    assert plot.returncode == 0 and english_runs(plot.stdout + plot.stderr) == []


def test_a_missing_chinese_font_draws_the_picture_in_english_and_says_so(tmp_path):
    pytest.importorskip("matplotlib")
    done = gradtrace_cli("plot", "tanh(x)", "-o", str(tmp_path / "p.png"), "--lang", "zh",
                         env={"GRADTRACE_CJK_FONT": str(tmp_path / "no-such-font.ttc")})
    assert done.returncode == 0 and (tmp_path / "p.png").is_file()
    assert "图中的中文需要中文字体" in done.stderr and "GRADTRACE_CJK_FONT" in done.stderr


def test_matplotlib_finds_the_cjk_font_of_the_pictures():
    matplotlib = pytest.importorskip("matplotlib")
    from gradtrace.render.fonts import cjk_font_file
    from gradtrace.render.plots import pyplot

    if cjk_font_file() is None:
        pytest.skip("no CJK font: pip install 'gradtrace[cjk]'")
    with i18n.language("zh"), matplotlib.rc_context():
        pyplot()
        from matplotlib import font_manager

        family = font_manager.FontProperties(fname=str(cjk_font_file())).get_name()
        assert family in matplotlib.rcParams["font.family"]


def test_json_in_chinese_has_the_same_keys_and_a_lang_key():
    def keys(value):
        if isinstance(value, dict):
            return {key: keys(item) for key, item in value.items()}
        if isinstance(value, list):
            return [keys(item) for item in value]
        return None

    for args in (("explain", "log(x)+relu(y)", "--at", "x=0,y=0"), ("mlp",),
                 ("check", "relu(x)*y", "--samples", "5")):
        english = json.loads(gradtrace_cli(*args, "--format", "json").stdout)
        chinese = json.loads(gradtrace_cli(*args, "--format", "json", "--lang", "zh").stdout)
        assert "lang" not in english and chinese.pop("lang") == "zh"
        assert keys(chinese) == keys(english), args


def test_the_interactive_page_speaks_chinese(tmp_path):
    page = tmp_path / "p.html"
    done = gradtrace_cli("explain", "x*y+z", "--html", str(page), "--lang", "zh",
                         "--format", "text")
    assert done.returncode == 0, done.stderr
    text = page.read_text(encoding="utf-8")
    assert '<html lang="zh">' in text
    data = json.loads(re.search(r'id="gt-data">(.*?)</script>', text).group(1))
    assert data["words"]["reaching_one"] == "它的梯度来自"
    assert data["steps"][1][1].startswith("前向传播第 1 步")


# -- the errors of the option parser, numpy and the PyTorch-named API ---------------------------

PARSER_ERRORS = {
    "not a choice": (("mlp", "--act", "foo"), "错误：'--act' 的值无效：'foo' 不是 'tanh'"),
    "out of range": (("train", "--epochs", "0"), "错误：'--epochs' 的值无效：0 不在范围 x>=1 内。"),
    "not a number": (("train", "--lr", "abc"), "'abc' 不是有效的数。"),
    "unknown option": (("plot", "relu(x)", "--format", "text"),
                       "错误：没有这个选项：--format（可能想写的是：--at, --wrt）"),
    "missing argument": (("gradcheck",), "错误：缺少参数 'LAYER'。"),
    "unknown command": (("frobnicate",), "错误：没有命令 'frobnicate'。"),
    "a command misspelt": (("explian", "x*y"), "错误：没有命令 'explian'。你是不是想输入 'explain'？"),
    "no value": (("explain", "x*y", "--at"), "错误：选项 '--at' 需要一个值。"),
    "extra argument": (("explain", "x*y", "extra"), "错误：多余的参数：extra"),
}


@pytest.mark.parametrize("args, expected", PARSER_ERRORS.values(), ids=PARSER_ERRORS.keys())
def test_the_option_parser_s_errors_are_said_in_chinese_and_english_is_untouched(args, expected):
    chinese = gradtrace_cli(*args, "--lang", "zh")
    english = gradtrace_cli(*args)
    assert chinese.returncode == english.returncode == 2 and chinese.stdout == ""
    assert expected in chinese.stderr
    assert "Error:" not in chinese.stderr and "Usage:" not in chinese.stderr
    assert english_runs(chinese.stderr) == []
    assert "Error: " in english.stderr  # the parser's own English, as typer writes it
    if "Usage: " in english.stderr:
        assert "用法：gradtrace" in chinese.stderr and "查看帮助。" in chinese.stderr


def test_a_missing_expression_is_said_in_chinese_and_the_help_still_shows():
    shown = gradtrace_cli("explain", "--lang", "zh")
    assert shown.returncode == 2 and "缺少参数 'EXPRESSION'" in shown.stderr
    bare = gradtrace_cli("--lang", "zh")  # no command: the help, as typer shows it
    shown_bare = bare.stdout + bare.stderr
    assert "gradtrace explain" in shown_bare and "命令：" in shown_bare
    assert not re.search("^错误", bare.stderr, re.MULTILINE)
    helped = gradtrace_cli("quiz", "--help", "--lang", "zh")
    assert helped.returncode == 0 and "--lang en|zh" in helped.stdout


@pytest.mark.parametrize("args, chinese_words, english_words", [
    (("explain", "x[3]", "--at", "x=[1,2]"), "下标 3 超出了轴 0 的范围（该轴的大小为 2）",
     "index 3 is out of range for axis 0, whose size is 2"),
    (("explain", "x[0,0]", "--at", "x=[1,2]"), "下标太多：1 维数组给了 2 个下标",
     "too many indices: 2 for a 1-d array"),
    (("explain", "W@x", "--at", "W=[[1,2],[3,4]]", "--at", "x=[1,2,3]"),
     "矩阵乘积中相乘的两个维度大小不同：2 和 3", "a matrix product multiplies together differ: 2 and 3"),
    (("explain", "x+y", "--at", "x=[1,2]", "--at", "y=[1,2,3]"), "这些形状无法广播成同一个形状",
     "the shapes do not broadcast to one shape"),
])
def test_numpy_s_reasons_for_refusing_shapes_are_said_in_the_reader_s_language(
        args, chinese_words, english_words):
    chinese = gradtrace_cli(*args, "--lang", "zh")
    english = gradtrace_cli(*args)
    assert chinese.returncode == english.returncode == 2
    assert chinese_words in chinese.stderr and english_runs(chinese.stderr) == []
    assert english_words in english.stderr


@pytest.mark.parametrize("make, words", [
    (lambda: gradtrace.zeros(10**9), "大小为 (1000000000,) 的张量会有 1,000,000,000 个元素"),
    (lambda: gradtrace.nn.Linear(100_000, 100_000), "Linear：形状为 (100000, 100000) 的权重会有"),
], ids=["tensor", "module"])
def test_the_pytorch_named_api_refuses_a_size_over_budget_in_one_language(make, words):
    english = _refused_in_each_language(make, ValueError, words)
    assert "would make 1" in english


def _refused_in_each_language(make, error, words: str) -> str:
    """`make` raises `error`: in Chinese with `words` and no English sentence, in English with
    no Chinese; gives the English message."""
    with i18n.language("zh"), pytest.raises(error) as refused:
        make()
    assert words in str(refused.value) and english_runs(str(refused.value)) == []
    with pytest.raises(error) as english:
        make()
    assert not re.search("[\u4e00-\u9fff]", str(english.value))
    return str(english.value)


def _tied_max_backward():
    tied = gradtrace.tensor([1.0, 1.0], requires_grad=True)
    return tied.max().backward


@pytest.mark.parametrize("make, error, words", [
    (lambda: gradtrace.nn.functional.conv2d(gradtrace.zeros(1, 2, 4, 4),
                                            gradtrace.zeros(2, 1, 3, 3), groups=2),
     gradtrace.DiffersFromPyTorch, "gradtrace 在这里与 PyTorch 不同：conv2d(dilation=1, groups=2)："
                                   "gradtrace 只计算 dilation=1、groups=1 的情形"),
    (lambda: gradtrace.optim.SGD([gradtrace.zeros(2, requires_grad=True)], lr=float("nan")),
     ValueError, "SGD：lr 的值 nan 无效：它必须是满足 lr ≥ 0 的有限数"),
    (lambda: gradtrace.tensor([1.0]).cuda(), gradtrace.DiffersFromPyTorch,
     "设备 'cuda'：gradtrace 只在 CPU 上计算（numpy）"),
    (lambda: gradtrace.nn.Linear(0, 3), ValueError, "Linear：in_features 必须是正整数，而不是 0"),
    (lambda: gradtrace.nn.functional.no_such_function, AttributeError,
     "gradtrace.nn.functional 没有 'no_such_function'"),
], ids=["differs from PyTorch", "optimiser", "device", "module size", "not in gradtrace"])
def test_gradtrace_s_own_errors_of_the_pytorch_named_api_are_said_in_chinese(make, error, words):
    _refused_in_each_language(make, error, words)


def test_a_refusal_made_in_english_is_said_in_the_language_of_the_backward_pass():
    backward = _tied_max_backward()  # the tie is met (and the refusal made) in English
    with i18n.language("zh"), pytest.raises(gradtrace.DiffersFromPyTorch) as refused:
        backward()
    assert "（有几个元素都等于最大值）" in str(refused.value)
    assert english_runs(str(refused.value)) == []


def test_pytorch_s_own_words_stay_in_english_and_gradtrace_s_tail_is_translated():
    leaf = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    pytorch_only = (lambda: (leaf * 2).sum().backward(gradient=gradtrace.zeros(3)),
                    lambda: gradtrace.autograd.grad(leaf * 2, leaf))
    for make in pytorch_only:
        with pytest.raises(gradtrace.PyTorchError) as english:
            make()
        with i18n.language("zh"), pytest.raises(gradtrace.PyTorchError) as chinese:
            make()
        assert str(chinese.value) == str(english.value)
        assert not re.search("[\u4e00-\u9fff]", str(chinese.value))
    sentence = "grad can be implicitly created only for scalar outputs"
    with i18n.language("zh"), pytest.raises(gradtrace.PyTorchError) as tailed:
        (leaf * 2).backward()
    text = str(tailed.value)
    assert text.startswith(sentence + "（这个张量的形状为 (2,)：")
    assert english_runs(text.removeprefix(sentence)) == []
    with pytest.raises(gradtrace.PyTorchError) as english:
        (leaf * 2).backward()
    assert str(english.value) == (f"{sentence} (this one has shape (2,): pass gradient=, the "
                                  "gradient of something with respect to it)")


def test_lists_in_chinese_sentences_keep_their_words_apart():
    with i18n.language("zh"):
        assert i18n.join_list(["a", "b", "c"]) == "a、b 或 c"
        assert i18n.join_list(["x", "y"], last="and") == "x 和 y"
    assert i18n.join_list(["a", "b", "c"]) == "a, b or c"
    refused = gradtrace_cli("graph", "x*y", "-o", "g.pdf", "--lang", "zh")
    assert refused.returncode == 2 and "名字须以 .svg、.png、.dot、.gv 结尾" in refused.stderr


def test_the_ops_listing_writes_each_rule_with_its_parentheses_closed():
    from gradtrace.narrate.ops_listing import op_rows

    rules = {row["name"]: row["local"] for row in op_rows()}
    assert rules["softmax"] == ["grad_a = softmax(a) ⊙ (g − Σ(g ⊙ softmax(a)))"]
    assert rules["elu"] == ["∂/∂a = [a > 0] + (elu(a) + alpha)·[a ≤ 0]"]
    unbalanced = [rule for local in rules.values() for rule in local
                  if rule.count("(") != rule.count(")")]
    assert not unbalanced
    listing = gradtrace_cli("ops", "--format", "text", "--lang", "zh").stdout
    assert "transpose(a) 或 a.T" in listing and " or " not in listing


def test_a_markdown_table_header_with_pipes_keeps_its_columns():
    """"max |追踪 − 符号|" is one header cell: its pipes are escaped as the rows' are."""
    for lang in ("en", "zh"):
        done = gradtrace_cli("check", "relu(x)*y", "--samples", "5", "--format", "markdown",
                             "--lang", lang)
        table = [line for line in done.stdout.splitlines() if line.startswith("|")]
        cells = [len(re.split(r"(?<!\\)\|", line)) for line in table]
        assert len(table) == 4 and len(set(cells)) == 1, table
    assert "| max \\|追踪 − 符号\\| |" in done.stdout


def test_a_png_whose_chinese_words_no_font_can_draw_falls_back_to_english_words(tmp_path):
    no_font = {"GRADTRACE_CJK_FONT": str(tmp_path / "no-such-font.ttc")}
    done = gradtrace_cli("graph", "x*y", "--lang", "zh", "-o", str(tmp_path / "g.png"),
                         env=no_font)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert "GRADTRACE_CJK_FONT" not in done.stderr and "gradtrace[cjk]" in done.stderr
    # Chinese names cannot be drawn in English: refused, in Chinese, exit 2, no file
    done = gradtrace_cli("graph", "权重*y", "--lang", "zh", "-o", str(tmp_path / "h.png"),
                         env=no_font)
    assert done.returncode == 2 and not (tmp_path / "h.png").exists()
    assert "中日韩字体" in done.stderr


# -- --help in Chinese ------------------------------------------------------------------------

HELP_PO = LOCALE / f"{help_text.DOMAIN}.po"
CHINESE = re.compile("[\u4e00-\u9fff]")


def help_po():
    from babel.messages.pofile import read_po

    with open(HELP_PO, "rb") as file:
        return read_po(file)


def test_every_piece_of_help_has_a_chinese_translation():
    pytest.importorskip("babel")
    translated = {message.id: message.string for message in help_po() if message.id}
    pieces = help_catalog.help_messages()
    assert len(pieces) > 100  # every command's help, options and headings were found
    missing = [piece for piece in pieces if not translated.get(piece)]
    assert not missing, "run: python -m gradtrace.cli.help_catalog, translate (CONTRIBUTING.md)"
    untranslated = [piece for piece in pieces if CHINESE.search(help_text.say(piece, "zh"))
                    is None and english_runs(piece)]
    assert not untranslated


def test_the_committed_help_mo_is_what_compiling_the_po_gives():
    pytest.importorskip("babel")
    from babel.messages.mofile import write_mo

    compiled = io.BytesIO()
    write_mo(compiled, help_po())
    assert compiled.getvalue() == HELP_PO.with_suffix(".mo").read_bytes(), \
        "run: pybabel compile -d gradtrace/locale -D gradtrace_help -l zh (CONTRIBUTING.md)"


def test_translations_keep_the_options_and_code_they_mention():
    pytest.importorskip("babel")
    code = re.compile(r"--[a-z][\w-]*|`[^`]*`|\bgradtrace (?:%s)\b" % "|".join(COMMANDS))
    lost = [(message.id, sorted(set(code.findall(message.id)) - set(code.findall(message.string))))
            for message in help_po() if message.id and message.string
            and set(code.findall(message.id)) - set(code.findall(message.string))]
    assert not lost


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_each_help_page_is_said_in_chinese_within_the_width(command):
    args = ([command] if command else []) + ["--help", "--lang", "zh"]
    shown = gradtrace_cli(*args, env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    page = shown.stdout
    assert "选项" in page and "用法" in page and CHINESE.search(page)
    assert english_runs(re.sub(r"^\s*(gradtrace |\$ ).*$", "", page, flags=re.MULTILINE)) == []
    english = gradtrace_cli(*args[:-2], "--help", env={"COLUMNS": "80"}).stdout
    # wrapped to 80 columns (a Chinese character takes two); the blocks laid out by hand may be
    # as wide as the English page's widest line (its examples)
    widest = max(80, *(display_width(line) for line in english.splitlines()))
    assert not [line for line in page.splitlines() if display_width(line) > widest]
    assert not [line for line in page.splitlines() if line.strip()
                and line.strip()[0] in "，。；：、）」"]
    options = set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", english))
    assert len(options) > 3 and not [option for option in options if option not in page]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_narrow_help_page_never_breaks_an_option_or_a_bracketed_note(lang):
    for command in [None, *COMMANDS]:
        args = ([command] if command else []) + ["--help", "--lang", lang]
        page = gradtrace_cli(*args, env={"COLUMNS": "50"}).stdout
        lines = page.splitlines()
        assert not [line for line in lines if re.search(r"(^|\s)--?[\w-]*-$", line)], command
        assert not [line for line in lines if line.rstrip().endswith("[")], command
        notes = re.findall(r"\[(?:default|默认)[^\]\n]*\]", page)
        assert notes or command in (None, "ops", "glossary"), command  # whole, on one line


def test_the_examples_of_a_command_are_kept_word_for_word():
    english = gradtrace_cli("explain", "--help").stdout
    chinese = gradtrace_cli("explain", "--help", "--lang", "zh").stdout
    examples = [line.strip() for line in english.splitlines()
                if line.strip().startswith("gradtrace explain ")]
    assert len(examples) >= 5
    for example in examples:
        command = example.split("  #")[0].strip()
        assert command in chinese


def test_the_language_also_comes_from_the_environment_and_english_stays_english():
    by_variable = gradtrace_cli("train", "--help", env={"GRADTRACE_LANG": "zh"}).stdout
    assert by_variable == gradtrace_cli("train", "--help", "--lang", "zh").stdout
    english = gradtrace_cli("train", "--help").stdout
    assert "Options:" in english and "Usage: gradtrace train" in english
    assert CHINESE.search(english) is None


def test_chinese_wraps_between_characters_and_english_at_spaces():
    text = "每一步都写成上游梯度乘以局部导数等于下游梯度，见 gradtrace explain 的输出。" * 3
    lines = help_text.wrap(text, 30, "  ", "  ")
    assert len(lines) > 3 and all(display_width(line) <= 30 for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert all("gradtrac" not in line or "gradtrace" in line for line in lines)  # one word
    assert help_text.wrap("alpha beta gamma", 11) == ["alpha beta", "gamma"]


def test_an_option_s_extras_are_said_after_its_translated_help():
    said = help_text.say_row("Only these inputs' gradients, comma-separated. Example: --wrt w,b"
                             "  [default: 0; x>=0]", "zh")
    assert CHINESE.search(said) and said.endswith("[默认：0; x>=0]")
    assert help_text.say_row("Not a piece of any help page  [required]", "zh") == \
        "Not a piece of any help page  [必填]"
    assert help_text.say_row("anything [required]", "en") == "anything [required]"
