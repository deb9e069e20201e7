from wf.cli.launch import main

main()
