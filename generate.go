package ftpaudit

// The generated blocks of docs/ (the rule table, the fault table) are
// rewritten from the code by the tests that check them:
//go:generate go test ./rules -count=1 -run ^TestRulesDoc$ -args -update-docs
//go:generate go test ./cmd/ftpaudit -count=1 -run ^(TestFaultTable|TestBoundsTable)$ -args -update-docs
//go:generate go test ./cmd/ftpaudit -count=1 -run ^TestManPage$ -args -update-docs
