// The Go side of tests/re2_differential.py: what Go's regexp (the package Kubernetes checks CRD
// patterns and CEL's matches() with) makes of each pattern. Same lines in and out as
// `cargo run -p eksgate-policy --example re2`.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

type input struct {
	Pattern string   `json:"pattern"`
	Texts   []string `json:"texts"`
}

type output struct {
	Ok    bool    `json:"ok"`
	Error string  `json:"error,omitempty"`
	Found [][]int `json:"found"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var c input
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var o output
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			o.Error = err.Error()
		} else {
			o.Ok = true
			o.Found = make([][]int, len(c.Texts))
			for i, t := range c.Texts {
				o.Found[i] = re.FindStringIndex(t)
			}
		}
		line, _ := json.Marshal(o)
		out.Write(line)
		out.WriteString("\n")
	}
}
