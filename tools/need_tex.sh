#!/usr/bin/env bash
# The TeX tools and fonts that `make pdf` needs, as Debian (and Ubuntu) packages.
#   tools/need_tex.sh          check; when something is missing: install it with apt-get if
#                              running as root, else print the apt-get line and exit 1
#   tools/need_tex.sh --list   print the package list (what the README and the workflow name)
# Each package is checked by a file or command it provides, so nothing is installed twice.
# The list was checked against the files XeLaTeX read for the whole book (its .fls recorder file):
# each belongs to one of these packages or to what they depend on.
set -uo pipefail
# package and a command, file (kpsewhich) or font family (fc-list) it provides
CHECKS=(
  "fontconfig cmd:fc-list"
  "texlive-xetex cmd:xelatex"
  "latexmk cmd:latexmk"
  "texlive-latex-recommended file:fancyvrb.sty"
  "texlive-latex-extra file:fncychap.sty"
  "texlive-fonts-recommended file:pcrb8t.tfm"
  "texlive-plain-generic file:texfonts.map"
  "texlive-pictures file:pict2e.sty"
  "tex-gyre file:tgtermes.sty"
  "lmodern file:lmodern.sty"
  "fonts-lmodern file:latinmodern-math.otf"
  "xindy cmd:xindy"
  "fonts-freefont-otf font:FreeSerif"
  "fonts-dejavu font:DejaVu Sans Mono"
  "poppler-utils cmd:pdftotext"
)
if [ "${1:-}" = "--list" ]; then
  for c in "${CHECKS[@]}"; do set -- $c; printf '%s ' "$1"; done; echo; exit 0
fi
missing=()
for c in "${CHECKS[@]}"; do
  pkg=${c%% *}; what=$(sed -E 's/^[^ ]+ +//' <<<"$c"); kind=${what%%:*}; name=${what#*:}
  case $kind in
    cmd)  command -v "$name" >/dev/null 2>&1 ;;
    file) command -v kpsewhich >/dev/null 2>&1 && [ -n "$(kpsewhich "$name" 2>/dev/null)" ] ;;
    font) command -v fc-list >/dev/null 2>&1 && fc-list ":family=$name" | grep -q . ;;
  esac || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && { echo "TeX for the PDF: all present"; exit 0; }
echo "TeX for the PDF: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${NEED_TEX_AGAIN:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "installing them with apt-get (a few minutes) ..."
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    && NEED_TEX_AGAIN=1 exec "$0"   # check again (once)
  echo "apt-get install failed"; exit 1
fi
echo "install them (as root):  apt-get install --no-install-recommends ${missing[*]}"
exit 1
