package ftpaudit

import "testing"

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		-1:                  "-",
		0:                   "0 B",
		512:                 "512 B",
		1023:                "1023 B",
		1024:                "1.0 KiB",
		1536:                "1.5 KiB",
		10*1024 - 52:        "9.9 KiB",
		10*1024 - 51:        "10 KiB", // 9.95 KiB rounds to 10, shown whole
		10 * 1024:           "10 KiB",
		1024*1024 - 1:       "1.0 MiB",
		5046586573:          "4.7 GiB",
		130 * 1024 * 1024:   "130 MiB",
		1 << 62:             "4.0 EiB",
		9223372036854775807: "8.0 EiB",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
