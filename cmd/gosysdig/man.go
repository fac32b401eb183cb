package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd is `gosysdig man DIR`: man pages (section 8, as sysdig's) generated from the
// command tree, one per command, so flags and their help never drift from the code.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "write gosysdig's man pages (section 8) into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("man: %v", err)}
			}
			hdr := &doc.GenManHeader{Title: "GOSYSDIG", Section: "8", Source: "gosysdig " + version, Manual: "gosysdig manual"}
			root := cmd.Root()
			root.DisableAutoGenTag = true // reproducible pages: no generation date in them
			if err := doc.GenManTree(root, hdr, args[0]); err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("man: %v", err)}
			}
			return nil
		},
	}
}

// newVersionCmd is `gosysdig version`, the same as --version.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version (as --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "gosysdig version %s\n", version)
			return nil
		},
	}
}

// newCompletionCmd is `gosysdig completion bash|zsh|fish|powershell`.
func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "print a shell completion script",
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			}
			return root.GenPowerShellCompletionWithDesc(w)
		},
	}
}
