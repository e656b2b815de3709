"""`make bench`: run every benchmark script in this folder (each prints its own table)."""

import subprocess
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("*.py")):
    if script.name != "run_all.py":
        print(f"\n== {script.name}")
        subprocess.run([sys.executable, str(script)], check=True)
