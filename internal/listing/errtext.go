package listing

// Error messages inside listing data. Servers that run ls for LIST (GNU
// inetutils ftpd, netkit ftpd, some embedded ones) send what ls writes to
// stderr down the data connection, and close it with a 226: a directory
// they cannot read "lists" as "ls: cannot open directory .: Permission
// denied", or "bin: Permission denied", in the server's language.

import (
	"strconv"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
)

// Summary is what a listing held besides its entries and unparsed lines:
// the lines that carry no entry, and the unparsed lines that are error
// messages. ParseChunksSummary fills it in.
type Summary struct {
	// Lines counts the lines that are not empty, parsed (lines after a
	// cut are not counted).
	Lines int
	// Totals counts ls's "total N" lines; TotalNonZero is set when one
	// of them is not "total 0".
	Totals       int
	TotalNonZero bool
	// Dot and DotDot are set when the listing showed the directory's
	// own "." (MLSD: type=cdir) and its ".." (type=pdir) entries, which
	// are skipped, not returned as entries.
	Dot, DotDot bool
	// ErrorLines counts the unparsed lines that read as error messages
	// (IsErrorText); Errors holds the first MaxErrorsKept of them, in
	// order. They are among the listing's unparsed lines too.
	ErrorLines int
	Errors     []ftpaudit.BadLine
}

// MaxErrorsKept is the most error lines a Summary keeps.
const MaxErrorsKept = 8

// ErrorOnly reports whether the listing is an error message in place of
// a listing: it has error lines and nothing else, except "total N"
// lines (no entry, no "." or ".." line, no other unparsed line). The
// server's words are ErrorText.
func (s *Summary) ErrorOnly() bool {
	return s.ErrorLines > 0 && s.ErrorLines+s.Totals == s.Lines
}

// ErrorMixed reports whether the listing has error lines among other
// lines (entries, "." or "..", or lines that did not parse): what it
// lists is at best part of the directory.
func (s *Summary) ErrorMixed() bool {
	return s.ErrorLines > 0 && s.ErrorLines+s.Totals < s.Lines
}

// TotalOnly reports whether the listing holds nothing but "total N"
// lines: no entry, not even "." (GNU ls prints "total 0" for an empty
// directory listed without -a, and some servers send it alone for a
// directory they could not read). It does not prove the directory was
// read.
func (s *Summary) TotalOnly() bool {
	return s.Totals > 0 && s.Totals == s.Lines
}

// ErrorText is the kept error lines, joined with "; " (each as
// BadLine.String shows it), and, when more were counted than kept, how
// many more. It is "" when there is none. It is the server's text:
// escape it before it reaches a terminal.
func (s *Summary) ErrorText() string {
	var b strings.Builder
	for i, e := range s.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.String())
	}
	if n := s.ErrorLines - len(s.Errors); n > 0 {
		b.WriteString("; ... (")
		b.WriteString(strconv.Itoa(n))
		b.WriteString(" more)")
	}
	return b.String()
}

// note counts one line the parser handled (not empty): the entry or
// skip it gave (e holds it), or its error.
func (s *Summary) note(line string, mlsd bool, e *ftpaudit.Entry, skip bool, err error) {
	s.Lines++
	switch {
	case err != nil:
		if isErrorShape(line) {
			s.ErrorLines++
			if len(s.Errors) < MaxErrorsKept {
				s.Errors = append(s.Errors, ftpaudit.NewBadLine(line, err.Error()))
			}
		}
	case !skip:
	case mlsd:
		switch {
		case ascii.EqualFold(e.Fact("type"), "cdir"):
			s.Dot = true
		case ascii.EqualFold(e.Fact("type"), "pdir"):
			s.DotDot = true
		}
	case e.Name == ".":
		s.Dot = true
	case e.Name == "..":
		s.DotDot = true
	case isTotalLine(line):
		s.Totals++
		if !isTotalZero(line) {
			s.TotalNonZero = true
		}
	}
}

// isTotalZero reports whether a "total N" line says 0 ("total 0", also
// "total 0K", "total 0.0").
func isTotalZero(line string) bool {
	for i := len("total "); i < len(line); i++ {
		if c := line[i]; c >= '1' && c <= '9' {
			return false
		}
	}
	return true
}

// ErrorText reports whether lines, the lines of a LIST listing (or of
// a STAT reply's listing), are an error message in place of a listing:
// at least one line is error text (IsErrorText) and every line that is
// not empty is error text or "total N". msg is the error lines joined
// with "; ". A line that parses as an entry (or ".", "..") is never
// error text, so a listing that shows anything is never an error.
func ErrorText(lines []string) (msg string, ok bool) {
	var s Summary
	for _, l := range lines {
		if l == "" {
			continue
		}
		var e ftpaudit.Entry
		_, skip, err := parseListLine(l, time.Time{}, &e, nil)
		s.note(l, false, &e, skip, err)
	}
	if !s.ErrorOnly() {
		return "", false
	}
	return s.ErrorText(), true
}

// IsErrorText reports whether line, a LIST line, is an error message
// that ls or the server wrote into the listing data: it does not parse
// as a listing line, and it has one of these shapes:
//
//	ls: cannot open directory '.': Permission denied    (any text after "ls: ", or "/bin/ls: ")
//	bin: Permission denied                              (a path, ": ", an error of the C library)
//	/pub/x: No such file or directory
//	bin: Keine Berechtigung, bin: Permission non accordée, bin: Отказано в доступе, ...
//
// The error is one of the C library's messages for the errors reading a
// directory gives (EACCES, ENOENT, ENOTDIR, ELOOP, EPERM, EIO and a few
// more), in English and in the translations of glibc most servers run
// in. The path may hold single spaces but no two in a row and no control
// character, and may not start like a line of a known listing format (an
// ls mode, an MS-DOS date, MLSD facts): listing lines, of formats this
// package does not know or with a field it refused, put their columns
// apart with runs of spaces or tabs, so that one of them that happens to
// end in a name like "x: Permission denied" is not taken for an error.
func IsErrorText(line string) bool {
	if !isErrorShape(line) {
		return false
	}
	var e ftpaudit.Entry
	_, _, err := parseListLine(line, time.Time{}, &e, nil)
	return err != nil
}

// isErrorShape is IsErrorText without the parse: for lines that did not
// parse.
func isErrorShape(line string) bool {
	if rest, ok := cutLsPrefix(line); ok {
		return strings.TrimSpace(rest) != ""
	}
	for _, msg := range errnoTexts {
		if len(line) < len(msg)+3 || line[len(line)-len(msg)-2:len(line)-len(msg)] != ": " ||
			!ascii.EqualFold(line[len(line)-len(msg):], msg) {
			continue
		}
		path := line[:len(line)-len(msg)-2]
		return path[0] != ' ' && !strings.Contains(path, "  ") && !hasControl(path) && !listingLike(path)
	}
	return false
}

// listingLike reports whether s starts like a listing line of a known
// format (a line of it that did not parse, say for a bad date, ending in a
// name like "x: Permission denied"): with an ls mode, an MS-DOS date, or
// MLSD facts.
func listingLike(s string) bool {
	tok, _, columns := strings.Cut(s, " ")
	if !columns {
		return false
	}
	if _, _, _, _, ok := parseModeToken(tok); ok || looksLikeMode(tok) {
		return true
	}
	if _, _, _, ok := dosDate(tok); ok {
		return true
	}
	sep, _, err := mlsdSeparator(s)
	return err == nil && strings.IndexByte(s[:sep], '=') >= 0
}

// cutLsPrefix returns what follows "ls: " (or "/bin/ls: ", any path
// ending in "/ls") at the start of line.
func cutLsPrefix(line string) (rest string, ok bool) {
	i := strings.Index(line, "ls: ")
	if i < 0 || i > 0 && (line[0] != '/' || line[i-1] != '/' || strings.IndexByte(line[:i], ' ') >= 0) {
		return "", false
	}
	return line[i+len("ls: "):], true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// errnoTexts are the C library's texts for the errors that reading a
// directory gives, in English and in glibc's translations (the wording
// of the locales servers run in, old and new).
var errnoTexts = [...]string{
	// English (glibc, BSD, musl)
	"Permission denied",
	"No such file or directory",
	"Not a directory",
	"Too many levels of symbolic links",
	"Operation not permitted",
	"Input/output error",
	"I/O error",
	"File name too long",
	"Stale file handle",
	"Stale NFS file handle",
	"Value too large for defined data type",
	"Cannot allocate memory",
	"Too many open files",
	// German
	"Keine Berechtigung",
	"Datei oder Verzeichnis nicht gefunden",
	"Ist kein Verzeichnis",
	"Die Operation ist nicht erlaubt",
	"Vorgang nicht zulässig",
	"Zu viele Ebenen aus symbolischen Links",
	"Eingabe-/Ausgabefehler",
	// French
	"Permission non accordée",
	"Aucun fichier ou dossier de ce type",
	"Aucun fichier ou répertoire de ce type",
	"N'est pas un dossier",
	"N'est pas un répertoire",
	"Opération non permise",
	"Trop de niveaux de liens symboliques",
	// Spanish
	"Permiso denegado",
	"No existe el fichero o el directorio",
	"No existe el archivo o el directorio",
	"No es un directorio",
	"Operación no permitida",
	"Demasiados niveles de enlaces simbólicos",
	// Italian
	"Permesso negato",
	"File o directory non esistente",
	"Non è una directory",
	"Operazione non permessa",
	"Troppi livelli di collegamenti simbolici",
	// Portuguese
	"Permissão negada",
	"Arquivo ou diretório inexistente",
	"Arquivo ou diretório não encontrado",
	"Ficheiro ou diretoria inexistente",
	"Não é um diretório",
	"Operação não permitida",
	// Dutch
	"Toegang geweigerd",
	"Bestand of map bestaat niet",
	"Is geen map",
	"Bewerking is niet toegestaan",
	// Polish
	"Brak dostępu",
	"Nie ma takiego pliku ani katalogu",
	"Nie jest katalogiem",
	"Operacja niedozwolona",
	// Czech
	"Přístup odmítnut",
	"Adresář nebo soubor neexistuje",
	"Není adresářem",
	// Swedish, Danish, Norwegian, Finnish
	"Åtkomst nekas",
	"Filen eller katalogen finns inte",
	"Adgang nægtet",
	"Ingen sådan fil eller filkatalog",
	"Ingen tilgang",
	"Ingen slik fil eller filkatalog",
	"Lupa evätty",
	"Tiedostoa tai hakemistoa ei ole",
	// Hungarian, Turkish, Romanian
	"Engedély megtagadva",
	"Nincs ilyen fájl vagy könyvtár",
	"Erişim engellendi",
	"Böyle bir dosya ya da dizin yok",
	"Permisiune refuzată",
	"Nu există un astfel de fișier sau director",
	// Russian, Ukrainian
	"Отказано в доступе",
	"Нет такого файла или каталога",
	"Это не каталог",
	"Операция не позволена",
	"Відмовлено у доступі",
	"Немає такого файла або каталогу",
	// Japanese, Chinese, Korean
	"許可がありません",
	"そのようなファイルやディレクトリはありません",
	"ディレクトリではありません",
	"許可されていない操作です",
	"权限不够",
	"没有那个文件或目录",
	"不是目录",
	"不允许的操作",
	"拒絕不符權限的操作",
	"沒有此一檔案或目錄",
	"不是目錄",
	"허가 거부",
	"그런 파일이나 디렉터리가 없습니다",
	"디렉터리가 아닙니다",
}
