try:
    from wf.cli.main import main
except KeyboardInterrupt:  # Ctrl+C while Python is still loading wf: an interrupt like any other, no traceback
    raise SystemExit(130) from None

main()
