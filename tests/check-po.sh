#!/bin/sh
# The German translation is complete and current: every message that the
# sources mark for translation is in de.po, translated and not fuzzy.
set -eu
src=$1
po=$src/po/de.po
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$src"
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=g_dngettext:2,3 \
  --files-from=po/POTFILES.in --output="$tmp/current.pot" 2>/dev/null || \
  xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --files-from=po/POTFILES.in --output="$tmp/current.pot"
msgmerge --quiet --no-fuzzy-matching "$po" "$tmp/current.pot" -o "$tmp/merged.po"
stats=$(msgfmt --check --statistics -o /dev/null "$tmp/merged.po" 2>&1)
echo "$stats"
case "$stats" in
  *untranslated*|*fuzzy*) echo "de.po is incomplete: run msgmerge and translate the new messages" >&2; exit 1 ;;
esac
n=$(msgattrib --no-obsolete "$tmp/merged.po" | grep -c '^msgid ' || true)
[ "$n" -gt 30 ] || { echo "only $n messages found: extraction failed" >&2; exit 1; }
# A message translated as itself everywhere would mean an English copy.
msgfmt -o "$tmp/de.mo" "$po"
got=$(LANGUAGE=de LC_ALL=C.UTF-8 TEXTDOMAINDIR="$tmp" sh -c 'mkdir -p "$TEXTDOMAINDIR/de/LC_MESSAGES" && cp "$TEXTDOMAINDIR/de.mo" "$TEXTDOMAINDIR/de/LC_MESSAGES/conceptscope.mo" && gettext -d conceptscope "Open a Hugging Face Model Folder"')
echo "Open a Hugging Face Model Folder -> $got"
[ "$got" = "Einen Hugging-Face-Modellordner öffnen" ]
