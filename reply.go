package ftpaudit

import (
	"errors"
	"strconv"
	"strings"
)

// ReplyText is a refusal's reply, for reports.
func ReplyText(err error) string {
	var re *ReplyError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

// IsTooMany reports whether err is a server saying it has too many
// connections (421, or 530 with such a text) rather than refusing the
// credentials.
func IsTooMany(err error) bool {
	var re *ReplyError
	if !errors.As(err, &re) {
		return false
	}
	if re.Code == 421 {
		return true
	}
	m := strings.ToLower(re.Msg)
	return re.Code == 530 && (strings.Contains(m, "too many") || strings.Contains(m, "maximum") ||
		strings.Contains(m, "limit") || strings.Contains(m, "try again") || strings.Contains(m, "busy"))
}

// IsLoginRefused reports whether err is a negative reply to the login.
func IsLoginRefused(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && (re.Code == 530 || re.Code == 332)
}

// failedReplyWords are words in a positive final reply that mean the
// listing did not really happen (vsftpd: "226 Transfer done (but failed to
// open directory).").
var failedReplyWords = []string{"fail", "denied", "error", "cannot", "can't", "unable", "not permitted"}

// truncatedReplyWords mean the server cut the listing short (pure-ftpd:
// "226-Output truncated to 2000 matches").
var truncatedReplyWords = []string{"truncat", "too many", "limit"}

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ReplySaysTruncated reports whether a final reply's text says the
// listing was cut short ("truncated", "too many", "limit").
func ReplySaysTruncated(reply string) bool { return containsAny(reply, truncatedReplyWords) }

// ReplySaysFailed reports whether a final reply's text says the listing
// failed although its code said success (vsftpd's "226 Transfer done
// (but failed to open directory)").
func ReplySaysFailed(reply string) bool { return containsAny(reply, failedReplyWords) }

// serverCaps are entry counts at which servers are known to cut a
// recursive listing (pure-ftpd's -L default is 10000, its documentation's
// example 2000). Output that stops exactly there is taken as cut, even if
// the reply does not say so.
var serverCaps = []int{1000, 2000, 5000, 10000, 20000, 50000, 100000}

// treeCutReason says why a recursive listing cannot be trusted as a whole,
// or "" when it can.
func TreeCutReason(t *TreeListing) string {
	switch {
	case t.Truncated:
		return "the transfer was cut short after " + strconv.FormatInt(t.Bytes, 10) + " bytes"
	case ReplySaysTruncated(t.Reply):
		return "the server cut it short: " + oneLine(t.Reply)
	}
	for _, c := range serverCaps {
		if t.Lines == c || t.Lines == c+2 || matchesTotal(t.Reply, c) {
			return "it stopped at " + strconv.Itoa(c) + " entries, a known server cap"
		}
	}
	return ""
}

// matchesTotal reports whether a pure-ftpd style reply ("226 10000 matches
// total") gives exactly n.
func matchesTotal(reply string, n int) bool {
	return strings.Contains(reply, " "+strconv.Itoa(n)+" matches total")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
