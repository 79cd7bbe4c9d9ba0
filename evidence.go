package ftpaudit

import "strings"

// disp shows a server-supplied name or path inside evidence text: as it
// is, or in double quotes when it is empty or has white space at either
// end of an element, so that its bounds stay visible. It does not escape:
// evidence is raw text, and the report layer escapes it once, when it
// renders it.
func EvidenceName(s string) string {
	if s == "" {
		return `""`
	}
	for _, el := range strings.Split(s, "/") {
		if strings.TrimSpace(el) != el {
			return `"` + s + `"`
		}
	}
	return s
}

// clean puts a server reply on one evidence line: line breaks become
// spaces and white space at the ends is dropped. Like disp, it does not
// escape.
func EvidenceReply(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", " "), "\n", " "))
}
