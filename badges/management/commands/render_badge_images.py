"""Render the badge images: static/badges/src/*.svg → static/badges/*.png (committed).

    python manage.py render_badge_images           # after editing an SVG source
    python manage.py render_badge_images --check   # fail when a PNG is not its source's rendering

The images are the project's own drawings (SVG, text in Noto Sans CJK SC). They are rendered
at build time, not at request time, by CairoSVG (Cairo + fontconfig); the PNGs are twice the
80×80 display size, for sharp badges on high-density screens, reduced to a palette of
128 colours with Pillow (about 4 KB instead of 15 KB: they load on every page). The PNGs are ordinary static
files: content-hashed by the manifest storage and cached ``immutable``.
"""

import shutil
import subprocess  # nosec B404: fc-list with a fixed argument list
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

FONT = "Noto Sans CJK SC"
SCALE = 2
COLOURS = 128


def shrink(png):
    """The same picture as a palette PNG (flat colours and anti-aliased edges survive 128 colours)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        palette = image.quantize(colors=COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        out = io.BytesIO()
        palette.save(out, "PNG", optimize=True)
    return out.getvalue()


class Command(BaseCommand):
    help = "把 static/badges/src/ 中的标识 SVG 渲染为 static/badges/ 中的 PNG（需要 cairosvg 与 fonts-noto-cjk）"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只检查PNG是否与SVG一致，不写文件")
        parser.add_argument("--scale", type=int, default=SCALE, help="相对80×80的倍数（默认2）")

    def handle(self, *args, **options):
        try:
            import cairosvg
        except (ImportError, OSError) as exc:  # OSError: libcairo2 missing
            raise CommandError(
                f"需要 cairosvg 与 libcairo2（pip install cairosvg；apt-get install libcairo2）：{exc}"
            ) from None
        self.require_font()
        folder = Path(settings.BASE_DIR) / "static" / "badges"
        sources = sorted((folder / "src").glob("*.svg"))
        if not sources:
            raise CommandError(f"{folder / 'src'} 中没有 SVG 文件。")
        size = 80 * options["scale"]
        stale = []
        for source in sources:
            png = shrink(
                cairosvg.svg2png(bytestring=source.read_bytes(), output_width=size, output_height=size, unsafe=False)
            )
            target = folder / f"{source.stem}.png"
            if options["check"]:
                if not target.exists() or target.read_bytes() != png:
                    stale.append(target.name)
                continue
            if target.exists() and target.read_bytes() == png:
                self.stdout.write(f"{target.name}：未变")
                continue
            target.write_bytes(png)
            self.stdout.write(f"{target.name}：{size}×{size}，{len(png):,} 字节")
        if stale:
            raise CommandError(f"这些 PNG 与其 SVG 不一致，请运行 manage.py render_badge_images：{'、'.join(stale)}")
        if options["check"]:
            self.stdout.write(f"{len(sources)} 个 PNG 与 SVG 一致。")

    def require_font(self):
        """Without the CJK face every Chinese glyph would be drawn as a box."""
        fc_list = shutil.which("fc-list")
        if fc_list is None:
            raise CommandError("没有找到 fc-list（fontconfig）。")
        found = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            [fc_list, f"{FONT}:style=Bold", "family"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
        if FONT not in found:
            raise CommandError(f"没有安装字体“{FONT}”（Debian：apt-get install fonts-noto-cjk）。")
