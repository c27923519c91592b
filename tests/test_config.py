"""Configuration: defaults, the file, the environment, and one clear line for every mistake."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Config, ConfigError, build_config, load_config

GOOD_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars → 32 bytes


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lvzhi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.database.url == "sqlite+aiosqlite:///./lvzhi.db"
    assert config.wecom.api_base == "https://qyapi.weixin.qq.com"
    assert config.wecom.callback_path == "/wecom/callback"
    assert config.time.timezone == "Asia/Shanghai"
    assert config.sandbox is True


def test_file_values_and_environment_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[server]
port = 9000
[wecom]
corp_id = "ww123"
agent_id = 1000002
secret = "from-file"
token = "tok"
encoding_aes_key = "{GOOD_KEY}"
""",
    )
    config = load_config(
        path, environ={"LVZHI_WECOM_SECRET": "from-env", "LVZHI_SERVER_PORT": "9100"}
    )
    assert config.server.port == 9100
    assert config.wecom.secret == "from-env"
    assert config.wecom.agent_id == 1000002
    assert config.sandbox is False


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    config = build_config(
        {
            "wecom": {
                "corp_id": "ww1",
                "agent_id": 1,
                "secret": "S3CRET-VALUE",
                "token": "TOKEN-VALUE",
                "encoding_aes_key": GOOD_KEY,
            }
        },
        environ={},
    )
    text = repr(config)
    assert "S3CRET-VALUE" not in text and "TOKEN-VALUE" not in text and GOOD_KEY not in text
    assert set(config.secrets()) == {"S3CRET-VALUE", "TOKEN-VALUE", GOOD_KEY}


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ("[server]\nport = 'eighty'\n", {}, "[server] port 必须是整数，现在写的是文字"),
        ("[server]\nport = 70000\n", {}, "[server] port 必须在 1 到 65535 之间，现在是 70000"),
        (
            "[server]\nprot = 80\n",
            {},
            "[server] prot 不是可用的配置项，请核对拼写；[server] 可用的有：host、port、"
            "max_body_bytes",
        ),
        (
            "[srever]\nport = 80\n",
            {},
            "[srever] 不是可用的配置节，请核对拼写；可用的有：[server]、[database]、[wecom]、"
            "[wechat]、[time]、[scheduler]、[delivery]、[dialog]、[notices]、[reports]、"
            "[proposals]、[activities]、[console]、[duty]、[backup]、[retention]、[log]",
        ),
        (
            "server = 3\n",
            {},
            "[server] 必须是一个配置节（以 [server] 开头的一段），现在写成了一个值",
        ),
        (
            "[database]\nurl = 'mysql://x'\n",
            {},
            "[database] url 必须以 sqlite+aiosqlite:// 或 postgresql+asyncpg:// 开头",
        ),
        (
            "[wecom]\nencoding_aes_key = 'tooshort'\n",
            {},
            "[wecom] encoding_aes_key 必须是 43 个字符的 EncodingAESKey，现在是 8 个字符",
        ),
        (
            "[wecom]\nencoding_aes_key = '" + "!" * 43 + "'\n",
            {},
            "[wecom] encoding_aes_key 必须是 43 个字符的 EncodingAESKey，"
            "现在的内容含有不该有的字符，请重新复制",
        ),
        (
            "[wecom]\ncorp_id = 'ww1'\n",
            {},
            "[wecom] encoding_aes_key 未填写：[wecom] 的 corp_id、secret、token、"
            "encoding_aes_key 要么都填，要么都不填（现在只填了 corp_id）",
        ),
        (
            "[time]\ntimezone = 'Mars/Olympus'\n",
            {},
            "[time] timezone 不是已知的时区：'Mars/Olympus'，应写成如 Asia/Shanghai",
        ),
        (
            "[delivery]\nmax_attempts = true\n",
            {},
            "[delivery] max_attempts 必须是整数，现在写的是 true 或 false",
        ),
        (
            "",
            {"LVZHI_SERVER_PORT": "x"},
            "环境变量 LVZHI_SERVER_PORT（即 [server] port） 必须是整数，现在是 'x'",
        ),
        (
            "[server\n",
            {},
            "配置文件 {file} 不是合法的 TOML 格式：第 1 行第 8 列附近有语法错误",
        ),
    ],
)
def test_bad_values_name_the_key(
    tmp_path: Path, toml: str, environ: dict[str, str], message: str
) -> None:
    file = write(tmp_path, toml)
    with pytest.raises(ConfigError) as raised:
        load_config(file, environ=environ)
    assert str(raised.value) == message.replace("{file}", str(file))


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "nope.toml", environ={})
    assert str(raised.value) == f"配置文件 {tmp_path / 'nope.toml'} 不存在，请检查路径"


def test_an_unreadable_file_is_said_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path, environ={})  # a directory
    assert str(raised.value) == f"配置文件 {tmp_path} 无法读取：这是一个目录，不是文件"
    latin = tmp_path / "gbk.toml"
    latin.write_bytes("[server]\nhost = '政协'\n".encode("gbk"))
    with pytest.raises(ConfigError) as raised:
        load_config(latin, environ={})
    assert str(raised.value) == f"配置文件 {latin} 不是 UTF-8 编码，请另存为 UTF-8 后再试"


def test_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[server]\nport = 'x'\n")
    assert main(["--config", str(path), "db", "current"]) == 2
    err = capsys.readouterr().err
    assert err == "lvzhi: 配置有误：[server] port 必须是整数，现在写的是文字\n"
    assert main(["--config", str(tmp_path / "missing.toml"), "db", "current"]) == 2
    missing = tmp_path / "missing.toml"
    assert capsys.readouterr().err == f"lvzhi: 配置有误：配置文件 {missing} 不存在，请检查路径\n"


def test_example_config_mirrors_every_key() -> None:
    """config.example.toml documents every section and key, and loads as it is."""
    import tomllib

    example = Path(__file__).parent.parent / "config.example.toml"
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    build_config(data, environ={})
    text = example.read_text(encoding="utf-8")
    for section in dataclasses.fields(Config):
        assert section.name in data, f"[{section.name}] missing from config.example.toml"
        for key in dataclasses.fields(getattr(Config(), section.name)):
            assert f"\n{key.name} = " in text or f"\n# {key.name} = " in text, (
                f"[{section.name}] {key.name} missing from config.example.toml"
            )
