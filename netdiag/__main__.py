from netdiag.cli import main

main()
