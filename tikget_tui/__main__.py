from tikget_tui.cli import main

raise SystemExit(main())
