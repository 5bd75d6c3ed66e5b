module github.com/mplsdp/mplsdp

go 1.26
