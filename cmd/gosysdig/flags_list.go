package main

import (
	"fmt"
	"io"
)

// listFieldsMarkdown is --list-markdown: -l's classes and fields in the layout of libsinsp's
// list_fields_markdown (a "## Field Class" heading, the class description, then a Name | Type |
// Description table). gosysdig's classes have no descriptions, so that paragraph is empty; -v
// changes nothing, as in sysdig.
func listFieldsMarkdown(w io.Writer, _ bool) error {
	class := ""
	for _, f := range fieldsInClassOrder() {
		if f.Class != class {
			class = f.Class
			fmt.Fprintf(w, "\n## Field Class: %s\n\n\n\nName | Type | Description\n:----|:-----|:-----------\n", class)
		}
		fmt.Fprintf(w, "`%s` | %s | %s\n", f.Name, kindName(f.Kind), f.Desc)
	}
	return nil
}
