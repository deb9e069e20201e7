from wf.cli.main import main

main()
