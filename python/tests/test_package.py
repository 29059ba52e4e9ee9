"""`pip install --no-build-isolation ./python` into a fresh virtual environment (with Debian's
packages visible), then the installed package, not the build tree's, round-trips an object and
is found by fsspec (Debian's fsspec 2022.11 reads no entry points: importing cerulean
registers the protocol)."""

import os
import subprocess
import sys
import textwrap


def test_pip_install_into_a_venv(server, tmp_path):
    source = os.environ["CERULEAN_SOURCE_DIR"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The build tree the tests run from (ctest sets it; by hand, the one holding the binary).
    env.setdefault("CERULEAN_BUILD_DIR", os.path.dirname(os.path.abspath(os.environ["CERULEAN_BINARY"])))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "-q",
                              os.path.join(source, "python")], env=env, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    check = textwrap.dedent(f"""
        import cerulean, fsspec
        assert "site-packages" in cerulean.__file__, cerulean.__file__
        client = cerulean.Client({server.endpoint!r})
        client.create_container("pip-check", exist_ok=True)
        client.put("pip-check", "x", b"installed")
        assert client.get("pip-check", "x") == b"installed"
        fs = fsspec.filesystem("cerulean", endpoint={server.endpoint!r})
        assert fs.cat_file("pip-check/x") == b"installed"
        print("ok")
    """)
    result = subprocess.run([python, "-c", check], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "ok", result.stdout + result.stderr
