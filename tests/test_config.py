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
        ("[server]\nport = 'eighty'\n", {}, "[server] port: expected an integer, got str"),
        ("[server]\nport = 70000\n", {}, "[server] port: must be between 1 and 65535, got 70000"),
        ("[server]\nprot = 80\n", {}, "[server] prot: unknown key"),
        ("[srever]\nport = 80\n", {}, "[srever]: unknown section"),
        ("server = 3\n", {}, "[server]: must be a table"),
        (
            "[database]\nurl = 'mysql://x'\n",
            {},
            "[database] url: must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
        ),
        (
            "[wecom]\nencoding_aes_key = 'tooshort'\n",
            {},
            "[wecom] encoding_aes_key: must decode to 32 bytes (43 characters), got 6 bytes",
        ),
        (
            "[wecom]\nencoding_aes_key = '" + "!" * 43 + "'\n",
            {},
            "[wecom] encoding_aes_key: not base64",
        ),
        (
            "[wecom]\ncorp_id = 'ww1'\n",
            {},
            "[wecom] encoding_aes_key: missing (the other WeCom credentials are set)",
        ),
        (
            "[time]\ntimezone = 'Mars/Olympus'\n",
            {},
            "[time] timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "[delivery]\nmax_attempts = true\n",
            {},
            "[delivery] max_attempts: expected an integer, got bool",
        ),
        ("", {"LVZHI_SERVER_PORT": "x"}, "LVZHI_SERVER_PORT: expected an integer, got 'x'"),
        ("[server\n", {}, "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(
    tmp_path: Path, toml: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, toml), environ=environ)
    assert message in str(raised.value)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[server]\nport = 'x'\n")
    assert main(["--config", str(path), "db", "current"]) == 2
    err = capsys.readouterr().err
    assert err == "lvzhi: config error: [server] port: expected an integer, got str\n"
    assert main(["--config", str(tmp_path / "missing.toml"), "db", "current"]) == 2
    assert "file not found" in capsys.readouterr().err


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
